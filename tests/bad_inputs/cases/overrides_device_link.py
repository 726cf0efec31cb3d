"""overrides.json is a symlink to /dev/zero (reading it would never end): it was skipped, with a
misleading line, before round 2; now refused without reading it."""
from pathlib import Path

import os

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    (run / "overrides.json").unlink()
    os.symlink("/dev/zero", run / "overrides.json")


CASE = run_case(["evaluate", "run_dir={run}"], ["{dir}/run/overrides.json: not a regular file"], damage)
