"""A log without the time column the config names: the fix offers data.columns.time=null for an
order-only log, never a step column as if it were a clock."""
from tests.bad_inputs.case import csv_case

STEPS = "user_id,item_id,step\n" + "".join(f"u{u},i{(u * 7 + k) % 12},{k}\n" for u in range(8) for k in range(8))

CASE = csv_case(STEPS, ["no column 'timestamp' (from data.columns.time)", "data.columns.time=null if the log has none"])
