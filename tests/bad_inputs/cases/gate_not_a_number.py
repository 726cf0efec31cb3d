"""A CI floor that is not a number: no figure is ever below NaN, so the gate could never fail."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the gate is not."""


CASE = run_case(["evaluate", "run_dir={run}", "--fail-under", "test/ndcg@10=nan"],
                ["--fail-under test/ndcg@10=nan", "not a number", "could never fail"], damage)
