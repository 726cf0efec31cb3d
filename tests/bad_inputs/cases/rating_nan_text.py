"""A rating column holding the text nan."""
from tests.bad_inputs.case import HEADER, ROWS, csv_case

log = HEADER.strip() + ",rating\n" + "".join(row + (",nan" if i == 4 else ",4") + "\n" for i, row in enumerate(ROWS))
CASE = csv_case(log, ["log.csv", "row 6", "column 'rating'", "rating 'nan' is not a number"], "data.columns.rating=rating")
