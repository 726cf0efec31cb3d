"""A re-ranking value out of range while its strategy is off: refused up front, not when someone
switches the strategy on."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=pop", "rank.mmr.lambda=1.5"], expect=["rank.mmr.lambda=1.5", "[0, 1]"])
