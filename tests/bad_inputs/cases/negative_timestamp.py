"""A timestamp before 1970 (a sign error)."""
from tests.bad_inputs.case import csv_case, rows_with

CASE = csv_case(rows_with({12: "u1,i5,-1000"}), ["log.csv", "row 14", "column 'timestamp'", "negative"])
