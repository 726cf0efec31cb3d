"""UTF-8 log with one line pasted from a Latin-1 file (byte 0xe9 for é)."""
from tests.bad_inputs.case import HEADER, ROWS, csv_case

LINES = [HEADER.encode()] + [r.encode() + b"\n" for r in ROWS]
LINES[7] = "u0,caf\u00e9,1000360\n".encode("latin-1")
CASE = csv_case(b"".join(LINES), ["log.csv", "row 8", "b'\\xe9'", "data.encoding"])
