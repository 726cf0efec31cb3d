"""A timestamp in the year 2100 (a clock or unit error)."""
from tests.bad_inputs.case import csv_case, rows_with

CASE = csv_case(rows_with({40: "u5,i3,4102444800"}), ["log.csv", "row 42", "column 'timestamp'", "future"])
