"""A number key given a word."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "trainer.epochs=many"], expect=["trainer.epochs=", "many", "integer"])
