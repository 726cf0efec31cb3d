"""A manifest whose artifact_version is 2.0 (a JSON number, not an integer)."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "finetune" / "manifest.json", lambda m: m.update(artifact_version=2.0))


CASE = run_case(["rank", "run_dir={run}"], ["{dir}/run/finetune/manifest.json", "artifact_version"], damage)
