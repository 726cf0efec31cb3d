"""data=sequences: a line with a user and no items."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(
    args=["prepare", "run_dir={run}", "data=sequences", "data.path={dir}/seqs.txt"],
    expect=["seqs.txt", "row 3", "'7'"],
    files={"seqs.txt": "1 1 2 3 4\n2 2 3 4 5\n7\n"},
)
