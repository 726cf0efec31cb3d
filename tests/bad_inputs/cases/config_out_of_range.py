"""A batch size of zero."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "trainer.batch_size=0"], expect=["trainer.batch_size=0", ">= 1"])
