"""A model loss that does not exist."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=gru4rec", "model.loss=hinge"],
                expect=["model.loss=hinge", "ce, sampled"])
