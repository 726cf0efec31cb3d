"""A CSV log with its header and no rows."""
from tests.bad_inputs.case import HEADER, csv_case

CASE = csv_case(HEADER, ["log.csv", "has no data rows"])
