"""A typo in an override key."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "trainer.epoch=3"],
                expect=["trainer.epoch'", "Did you mean trainer.epochs"])
