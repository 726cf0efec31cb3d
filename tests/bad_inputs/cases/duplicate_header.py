"""A header that names a column twice."""
from tests.bad_inputs.case import LOG, csv_case

CASE = csv_case(LOG.replace("timestamp", "user_id", 1), ["log.csv", "row 1", "'user_id' appears twice"])
