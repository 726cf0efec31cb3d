"""overrides.json setting Hydra's launcher to os.system."""
from pathlib import Path

from tests.bad_inputs.case import add_recorded, run_case


def damage(run: Path) -> None:
    add_recorded(run, "hydra.launcher._target_=os.system")


CASE = run_case(
    ["evaluate", "run_dir={run}"],
    ["{dir}/run/overrides.json", "hydra.launcher._target_='os.system' is not a Hydra launcher plugin"],
    damage,
)
