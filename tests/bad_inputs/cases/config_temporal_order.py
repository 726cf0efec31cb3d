"""Temporal cut-offs in the wrong order (valid after test)."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["prepare", "run_dir={run}", "data.split=temporal", "data.temporal.valid=0.95",
                      "data.temporal.test=0.9"],
                expect=["data.temporal.valid", "data.temporal.test"])
