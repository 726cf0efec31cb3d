"""A manifest that is valid JSON but not an object."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    (run / "capture" / "manifest.json").write_text("[1, 2, 3]\n")


CASE = run_case(["rank", "run_dir={run}"], ["{dir}/run/capture/manifest.json", "an object, not a list"], damage)
