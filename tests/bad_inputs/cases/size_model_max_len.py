"""A window so long that attention's max_len² scores cannot fit is refused before any work."""
from tests.bad_inputs.case import run_case

CASE = run_case(["train", "run_dir={run}", "model.max_len=1000000"],
                ["model.max_len=1000000", "[1, 8192]", "max_len²"], lambda run: None, limits={"RLIMIT_AS": 4 << 30})
