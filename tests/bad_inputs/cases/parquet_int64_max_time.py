"""A Parquet log with one timestamp at int64's maximum."""
from tests.bad_inputs.case import csv_case, good_columns, parquet_bytes

columns = good_columns()
columns["timestamp"][3] = 2**63 - 1
CASE = csv_case(parquet_bytes(columns), ["log.parquet", "row 4", "column 'timestamp'", "9223372036854775807"], name="log.parquet")
