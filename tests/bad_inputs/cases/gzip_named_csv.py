"""A gzip-compressed log saved under a plain .csv name: said as such, with the name that reads it."""
import gzip

from tests.bad_inputs.case import LOG, csv_case

CASE = csv_case(gzip.compress(LOG.encode()), ["log.csv", "gzip-compressed", "log.csv.gz"])
