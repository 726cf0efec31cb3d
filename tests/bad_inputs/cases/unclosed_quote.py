"""A quoted field that never closes: the rest of the file would be one field."""
from tests.bad_inputs.case import csv_case, rows_with

CASE = csv_case(rows_with({50: 'u6,"i3,1000120'}), ["log.csv", "row 52", "quoted field never closes"])
