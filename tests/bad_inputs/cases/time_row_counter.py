"""A row counter (the events numbered in file order, users interleaved) as the time column."""
from tests.bad_inputs.case import csv_case

ROWS = "user_id,item_id,timestamp\n" + "".join(f"u{n % 8},i{(n * 5) % 12},{n}\n" for n in range(64))

CASE = csv_case(ROWS, ["{dir}/log.csv, row 2, column 'timestamp'", "numbers the rows (0 to 63)",
                       "data.columns.time=null"])
