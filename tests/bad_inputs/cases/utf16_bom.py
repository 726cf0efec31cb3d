"""A log saved as UTF-16 (Excel's "Unicode text"): its BOM is not UTF-8's, so it fails clearly.
(A UTF-8 BOM is accepted: see test_utf8_bom_is_accepted.)"""
from tests.bad_inputs.case import LOG, csv_case

CASE = csv_case(LOG.encode("utf-16"), ["log.csv", "row 1", "UTF-16 byte-order mark", "data.encoding=utf-16"])
