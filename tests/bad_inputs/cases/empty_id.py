"""An item id field left empty."""
from tests.bad_inputs.case import csv_case, rows_with

CASE = csv_case(rows_with({30: "u3,,1000060"}), ["log.csv", "row 32", "column 'item_id'", "missing id"])
