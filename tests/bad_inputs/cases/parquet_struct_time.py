"""A Parquet log whose time column holds structs."""
from tests.bad_inputs.case import csv_case, good_columns, parquet_bytes

columns = good_columns()
columns["timestamp"] = [{"s": t} for t in columns["timestamp"]]
CASE = csv_case(parquet_bytes(columns), ["log.parquet", "row 1", "column 'timestamp'", "cannot read timestamp"], name="log.parquet")
