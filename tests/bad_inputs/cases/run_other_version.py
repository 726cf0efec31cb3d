"""A run folder written by another dynrec artifact version."""
import json
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    path = run / "finetune" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["artifact_version"], manifest["dynrec_version"] = 0, "0.0.1"
    path.write_text(json.dumps(manifest))


CASE = run_case(["evaluate", "run_dir={run}"], ["finetune/manifest.json", "0.0.1", "--force"], damage)
