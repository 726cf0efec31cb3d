"""overrides.json holding something else than a list of override strings."""
import json
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    recorded = json.loads((run / "overrides.json").read_text())
    (run / "overrides.json").write_text(json.dumps([*recorded, {"model": "sasrec"}]))


CASE = run_case(["evaluate", "run_dir={run}"], ["{dir}/run/overrides.json", "item 13: a string, not an object"], damage)
