"""A per-user step counter (0, 1, 2, ...) given as the time column: read as unix seconds it would
put every event in January 1970; the fix is data.columns.time=null, not a clock it is not."""
from tests.bad_inputs.case import csv_case

STEPS = "user_id,item_id,step\n" + "".join(f"u{u},i{(u * 7 + k) % 12},{k}\n" for u in range(8) for k in range(8))

CASE = csv_case(STEPS, ["{dir}/log.csv, row 2, column 'step'", "counts each user's events (0, 1, 2, ...)",
                        "data.columns.time=null"], "data.columns.time=step")
