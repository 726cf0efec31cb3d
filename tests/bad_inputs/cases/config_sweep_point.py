"""One bad point in a sweep: refused before the first job runs, not when its job comes up."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "-m", "model=sasrec", "model.dropout=0.1,1.5", "run_dir={run}"],
                expect=["model.dropout=1.5", "[0, 1)"])
