"""A Parquet log from another tool: its columns are not the ones the config maps."""
from tests.bad_inputs.case import csv_case, good_columns, parquet_bytes

columns = good_columns()
columns = {"customer": columns["user_id"], "product": columns["item_id"], "ts": columns["timestamp"]}
CASE = csv_case(parquet_bytes(columns), ["log.parquet", "no column 'user_id'", "data.columns.user", "customer"],
                name="log.parquet")
