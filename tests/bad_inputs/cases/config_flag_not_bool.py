"""A true/false key given another word: refused, not read as true."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=pop", "rank.explain=maybe"], expect=["rank.explain=maybe", "true or false"])
