"""An adapter chosen for a model without one."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=gru4rec", "adapter=moe"],
                expect=["adapter=moe: nothing reads it with model=gru4rec", "model=dynrec"])
