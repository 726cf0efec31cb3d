"""A manifest without its outputs (edited by hand)."""
import json
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    path = run / "finetune" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["outputs"]
    path.write_text(json.dumps(manifest))


CASE = run_case(["evaluate", "run_dir={run}", "--force"],
                ["{dir}/run/finetune/manifest.json: not a dynrec manifest.json", "no key 'outputs'"], damage)
