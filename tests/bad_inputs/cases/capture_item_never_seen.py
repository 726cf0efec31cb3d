"""A capture event naming an item the run never saw (neither in its log nor its catalogue)."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(
    args=["capture", "run_dir={run}", "capture.events={dir}/today.csv"],
    expect=["today.csv", "row 3", "column 'item_id'", "item 'i99' was never seen", "capture.unknown_items=skip"],
    files={"today.csv": "user_id,item_id,timestamp\nu1,i3,2000000\nu2,i99,2000060\n"},
    needs_run=True,
    damage=lambda run: None,
)
