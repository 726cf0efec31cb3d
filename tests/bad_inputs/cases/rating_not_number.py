"""A rating column holding a word."""
from tests.bad_inputs.case import ROWS, csv_case

LOG = "user_id,item_id,timestamp,rating\n" + "".join(
    f"{row},{'five' if i == 17 else 4}\n" for i, row in enumerate(ROWS))
CASE = csv_case(LOG, ["log.csv", "row 19", "column 'rating'", "'five'"], "data.columns.rating=rating")
