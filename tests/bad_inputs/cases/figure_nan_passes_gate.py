"""An evaluate manifest whose test/ndcg@10 is NaN: evaluate was up to date, so the recorded figure
was gated, and NaN is below no floor: --fail-under passed (exit 0) before round 2."""
from pathlib import Path

from tests.bad_inputs.case import edit_json, run_case


def damage(run: Path) -> None:
    edit_json(run / "evaluate" / "manifest.json", lambda m: m["figures"].update({"test/ndcg@10": float("nan")}))


CASE = run_case(["evaluate", "run_dir={run}", "--fail-under", "test/ndcg@10=0.5"],
                ["{dir}/run/evaluate/manifest.json", "figures.test/ndcg@10: a finite number, not nan"], damage)
