"""A Parquet log whose user column holds lists: the column, the row and the type, no TypeError."""
from tests.bad_inputs.case import csv_case, good_columns, parquet_bytes

columns = good_columns()
columns["user_id"] = [[user] for user in columns["user_id"]]
CASE = csv_case(parquet_bytes(columns), ["log.parquet", "row 1", "column 'user_id'", "holds lists"],
                name="log.parquet")
