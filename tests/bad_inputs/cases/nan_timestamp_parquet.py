"""A Parquet log with a NaN float timestamp."""
from tests.bad_inputs.case import csv_case, good_columns, parquet_bytes

columns = good_columns()
columns["timestamp"] = [float(t) for t in columns["timestamp"]]
columns["timestamp"][3] = float("nan")
CASE = csv_case(parquet_bytes(columns), ["log.parquet", "row 4", "column 'timestamp'"], name="log.parquet")
