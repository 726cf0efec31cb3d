"""An objective ranking deeper than the catalogue (valid/ndcg@50 over 12 items): refused once
prepare has counted the items, before training."""
from tests.bad_inputs.case import run_case

CASE = run_case(["train", "run_dir={run}", "trainer.objective=valid/ndcg@50"],
                ["trainer.objective=valid/ndcg@50", "K=50 is more than the 12 items of {dir}/run"], lambda run: None)
