"""overrides.json holding an override Hydra's grammar refuses: the line named neither the file
nor the key (`no viable alternative at input '['`) before round 2."""
from pathlib import Path

from tests.bad_inputs.case import add_recorded, run_case


def damage(run: Path) -> None:
    add_recorded(run, "model.hidden=[")


CASE = run_case(["evaluate", "run_dir={run}"],
                ["{dir}/run/overrides.json", "item 13: 'model.hidden=['", "is not an override"], damage)
