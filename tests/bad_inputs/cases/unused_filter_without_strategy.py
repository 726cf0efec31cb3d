"""A category filter set while rank.strategies has no filter."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=pop", "rank.filter.exclude_categories=[Horror]"],
                expect=["rank.filter.exclude_categories: nothing reads it with rank.strategies=[]", "rank.strategies=[filter]"])
