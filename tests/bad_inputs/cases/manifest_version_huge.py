"""A manifest whose artifact_version has 400 digits."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "finetune" / "manifest.json", lambda m: m.update(artifact_version=10**400))


CASE = run_case(["rank", "run_dir={run}"], ["{dir}/run/finetune/manifest.json", "with artifact version 1000"], damage)
