"""The log's last line was cut mid-row (a partial download)."""
from tests.bad_inputs.case import LOG, csv_case

CASE = csv_case(LOG[:-12], ["log.csv", "row 65", "fields, expected 3"])
