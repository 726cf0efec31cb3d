"""The same column mapped as user and item: refused by key before any file is read."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(
    args=["prepare", "run_dir={run}", "data=csv", "data.interactions={dir}/missing.csv", "data.columns.item=user_id"],
    expect=["data.columns.item=user_id is also data.columns.user"],
)
