"""A training setting for a model without a training loop."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=pop", "trainer.epochs=50"],
                expect=["trainer.epochs: nothing reads it with model=pop", "a trained model"])
