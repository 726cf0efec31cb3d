"""A Parquet log whose item ids are structs."""
from tests.bad_inputs.case import csv_case, good_columns, parquet_bytes

columns = good_columns()
columns["item_id"] = [{"a": i} for i in columns["item_id"]]
CASE = csv_case(parquet_bytes(columns), ["log.parquet", "row 1", "column 'item_id'", "holds structs"], name="log.parquet")
