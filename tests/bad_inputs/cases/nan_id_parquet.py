"""A Parquet log whose item id column holds a null."""
from tests.bad_inputs.case import csv_case, good_columns, parquet_bytes

columns = good_columns()
columns["item_id"][20] = None
CASE = csv_case(parquet_bytes(columns), ["log.parquet", "row 21", "column 'item_id'", "missing id"],
                name="log.parquet")
