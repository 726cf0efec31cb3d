"""A 0-byte Parquet file (a crashed export)."""
from tests.bad_inputs.case import csv_case

CASE = csv_case(b"", ["log.parquet", "empty (0 bytes)"], name="log.parquet")
