"""metrics.json with an infinite figure (Python's json reads Infinity): Run.metrics and the API returned it."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "evaluate" / "manifest.json", lambda m: m["figures"].update({"test/recall@10": float("inf")}))


CASE = run_case(["evaluate", "run_dir={run}"],
                ["{dir}/run/evaluate/manifest.json", "figures.test/recall@10: a finite number, not inf"], damage)
