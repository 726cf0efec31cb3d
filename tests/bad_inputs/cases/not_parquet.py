"""A CSV renamed to .parquet."""
from tests.bad_inputs.case import LOG, csv_case

CASE = csv_case(LOG, ["log.parquet", "cannot be read as Parquet"], name="log.parquet")
