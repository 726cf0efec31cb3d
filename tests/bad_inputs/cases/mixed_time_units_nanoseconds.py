"""A nanosecond column with one microsecond value: units are told apart at every resolution."""
from tests.bad_inputs.case import HEADER, ROWS, csv_case

# the good log's times as nanoseconds in 2020 (ns since the epoch), then row 12 in microseconds
NANOS = [f"{u},{i},{(int(t) + 1_599_000_000) * 10**9 + 7}" for u, i, t in (row.split(",") for row in ROWS)]
NANOS[10] = "u1,i5,1600000000000001"

CASE = csv_case(HEADER + "".join(row + "\n" for row in NANOS),
                ["log.csv", "row 12", "column 'timestamp'", "microseconds", "mixed microseconds and nanoseconds"])
