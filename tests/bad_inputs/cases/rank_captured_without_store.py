"""rank.users=captured on a run that has no interest store: refused before training, not after."""
from tests.bad_inputs.case import CATALOGUE, LOG, PREPARE_ARGS, TINY_MODEL, BadInput

CASE = BadInput(
    args=["train", "run_dir={run}", "data=csv", "data.interactions={dir}/log.csv", "data.items={dir}/items.csv",
          *PREPARE_ARGS, *TINY_MODEL, "rank.users=captured"],
    expect=["rank.users=captured", "no interest store"],
    files={"log.csv": LOG, "items.csv": CATALOGUE},
)
