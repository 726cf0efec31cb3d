"""A list length no machine can hold for every user is refused before ranking starts."""
from tests.bad_inputs.case import run_case

CASE = run_case(["rank", "run_dir={run}", "rank.k=1000000000"],
                ["rank.k=1000000000", "[1, 100000]"], lambda run: None, limits={"RLIMIT_AS": 4 << 30})
