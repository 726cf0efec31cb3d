"""A Parquet log whose user ids are binary, one of them not UTF-8: pandas' str conversion raised
UnicodeDecodeError (exit 1) before round 2."""
from tests.bad_inputs.case import csv_case, good_columns, parquet_bytes

columns = good_columns()
columns["user_id"] = [u.encode() for u in columns["user_id"]]
columns["user_id"][2] = b"\xff\xfe"
CASE = csv_case(parquet_bytes(columns), ["log.parquet", "row 3", "column 'user_id'", "bytes that are not UTF-8 text"],
                name="log.parquet")
