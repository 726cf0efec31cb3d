"""A gate on a segment without users, with evaluation settings that re-evaluate the run: refused
after the evaluation, which is rolled back (metrics.json and the reports used to be replaced)."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: every history is longer than 5 events, so the segment `short` is empty."""


CASE = run_case(["evaluate", "run_dir={run}", "eval.ks=[5]", "--fail-under", "test/short/ndcg@5=0.1"],
                ["--fail-under test/short/ndcg@5", "segment test/short has no users"], damage)
