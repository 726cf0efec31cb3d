"""A CSV timestamp of 26 digits (past int64)."""
from tests.bad_inputs.case import csv_case, rows_with

CASE = csv_case(rows_with({4: "u0,i3,99999999999999999999999999"}), ["log.csv", "row 6", "column 'timestamp'"])
