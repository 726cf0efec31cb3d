"""One event in milliseconds among seconds."""
from tests.bad_inputs.case import csv_case, rows_with

CASE = csv_case(rows_with({5: "u0,i11,1500000000000"}), ["log.csv", "row 7", "column 'timestamp'", "milliseconds"])
