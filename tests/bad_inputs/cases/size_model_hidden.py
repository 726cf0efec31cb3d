"""A width no machine can allocate (the item table alone would be 5 GB) is refused before any
work, with the bound and why (the 4 GiB address-space limit turns a missed check into a failure)."""
from tests.bad_inputs.case import run_case

CASE = run_case(["train", "run_dir={run}", "model.hidden=100000000"],
                ["model.hidden=100000000", "[1, 16384]", "every item and layer holds vectors this wide"],
                lambda run: None, limits={"RLIMIT_AS": 4 << 30})
