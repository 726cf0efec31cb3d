"""Sampled-softmax negatives with the full softmax loss."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=sasrec", "model.negatives=64"],
                expect=["model.negatives: nothing reads it with model.loss=ce", "model.loss=sampled"])
