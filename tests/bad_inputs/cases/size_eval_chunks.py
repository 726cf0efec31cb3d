"""Score chunks whose product would not fit (user_chunk × item_chunk fp32 scores at once)."""
from tests.bad_inputs.case import run_case

CASE = run_case(["evaluate", "run_dir={run}", "eval.user_chunk=1000000", "eval.item_chunk=10000000"],
                ["eval.user_chunk=1000000 × eval.item_chunk=10000000", "GiB"], lambda run: None,
                limits={"RLIMIT_AS": 4 << 30})
