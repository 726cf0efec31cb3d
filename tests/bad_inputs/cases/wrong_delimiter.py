"""A semicolon-separated log read as CSV."""
from tests.bad_inputs.case import LOG, csv_case

CASE = csv_case(LOG.replace(",", ";"), ["log.csv", "row 1", "';'", "data.sep"])
