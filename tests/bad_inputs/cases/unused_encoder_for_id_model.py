"""A language model chosen for an ID-only model, which loads none."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=sasrec", "encoder=tiny"],
                expect=["encoder=tiny: nothing reads it with model=sasrec", "a text model"])
