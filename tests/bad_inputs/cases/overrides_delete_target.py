"""overrides.json deleting the optimiser's `_target_` (~key)."""
from pathlib import Path

from tests.bad_inputs.case import add_recorded, run_case


def damage(run: Path) -> None:
    add_recorded(run, "~trainer.optimizer._target_")


CASE = run_case(["train", "run_dir={run}"],
                ["trainer.optimizer._target_=null is not a torch.optim optimiser class"], damage)
