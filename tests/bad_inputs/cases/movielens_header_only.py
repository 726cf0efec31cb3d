"""A MovieLens u.data holding its (added) header line and nothing else."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(
    args=["prepare", "run_dir={run}", "data=movielens", "data.path={dir}"],
    expect=["u.data", "row 1", "header line and no data rows"],
    files={"u.data": "user_id\titem_id\trating\ttimestamp\n"},
)
