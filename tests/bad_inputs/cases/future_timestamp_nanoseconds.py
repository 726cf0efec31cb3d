"""A nanosecond timestamp in the year 2100 among nanoseconds: the future check at full resolution."""
from tests.bad_inputs.case import HEADER, ROWS, csv_case

NANOS = [f"{u},{i},{(int(t) + 1_599_000_000) * 10**9 + 7}" for u, i, t in (row.split(",") for row in ROWS)]
NANOS[40] = "u5,i3,4102444800000000001"

CASE = csv_case(HEADER + "".join(row + "\n" for row in NANOS), ["log.csv", "row 42", "column 'timestamp'", "future"])
