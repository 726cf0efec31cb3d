"""A training history that is not a list of epochs (the report reads it)."""
from pathlib import Path

from tests.bad_inputs.case import rehash, run_case


def damage(run: Path) -> None:
    (run / "finetune" / "history.json").write_text('{"epochs": 2}')
    rehash(run / "finetune", "history.json")


CASE = run_case(["evaluate", "run_dir={run}", "--force"], ["{dir}/run/finetune/history.json", "a list, not an object"], damage)
