"""A run whose overrides.json holds a key nothing read (an older dynrec only warned): the run was
trained without it, and every verb on it says so."""
import json
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    recorded = json.loads((run / "overrides.json").read_text())
    (run / "overrides.json").write_text(json.dumps([*recorded, "rank.mmr.lambda=0.5"]))


CASE = run_case(["rank", "run_dir={run}"],
                ["rank.mmr.lambda (from {dir}/run/overrides.json): nothing reads it with rank.strategies=[]"], damage)
