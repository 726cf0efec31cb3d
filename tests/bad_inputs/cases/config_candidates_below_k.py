"""A re-ranking pool smaller than the list it must fill."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=pop", "rank.strategies=[mmr]", "rank.candidates=5"],
                expect=["rank.candidates=5", "rank.k=10"])
