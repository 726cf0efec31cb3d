"""An output format that does not exist: refused before training, not after it."""
from tests.bad_inputs.case import BadInput

CASE = BadInput(args=["train", "run_dir={run}", "model=sasrec", "rank.format=xlsx"],
                expect=["rank.format=xlsx", "parquet, csv, jsonl"])
