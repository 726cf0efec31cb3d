"""A data key that re-prepares the run, with a rank.users id the new data lacks: prepare runs, the
id is refused right after it, and the new prepare is rolled back (it used to stay beside the old
finetune, and every later verb on the run was refused)."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the request is not."""


CASE = run_case(["train", "run_dir={run}", "data.min_item_interactions=2", "rank.users=[nobody]"],
                ["rank.users", "unknown user id(s) nobody"], damage)
