"""A Parquet file saved under a .csv name: said as such, not as an encoding problem."""
from tests.bad_inputs.case import csv_case, good_columns, parquet_bytes

CASE = csv_case(parquet_bytes(good_columns()), ["log.csv", "is a Parquet file", "rename it to .parquet"])
