"""Temporal cut-offs with the default leave-one-out split."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=pop", "data.temporal.test=0.95"],
                expect=["data.temporal.test: nothing reads it with data.split=leave_one_out", "data.split=temporal"])
