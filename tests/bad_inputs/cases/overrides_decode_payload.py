"""A recorded override that asks oc.decode for a `_target_` (unquoted: not valid override grammar):
refused as before, now naming the file."""
from pathlib import Path

from tests.bad_inputs.case import MARKER, add_recorded, run_case


def damage(run: Path) -> None:
    add_recorded(run, "+trainer.optimizer.eps=${oc.decode:'{_target_: builtins.exec}'}")


CASE = run_case(["train", "run_dir={run}"], ["{dir}/run/overrides.json", "item 13", "is not an override"], damage)
