"""overrides.json is a folder: it was skipped, and the line blamed the defaults it left (data.format=movielens)."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    (run / "overrides.json").unlink()
    (run / "overrides.json").mkdir()


CASE = run_case(["evaluate", "run_dir={run}"], ["{dir}/run/overrides.json: not a regular file"], damage)
