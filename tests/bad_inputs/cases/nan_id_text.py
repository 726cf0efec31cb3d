"""A user id written as NaN by a pandas export of a missing value."""
from tests.bad_inputs.case import csv_case, rows_with

CASE = csv_case(rows_with({9: "NaN,i3,1000060"}), ["log.csv", "row 11", "column 'user_id'", "'NaN'", "missing-value"])
