"""A CI floor above 1 for a metric in [0, 1]: the gate could never pass."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the gate is not."""


CASE = run_case(["evaluate", "run_dir={run}", "--fail-under", "test/ndcg@10=1.5"],
                ["--fail-under test/ndcg@10=1.5", "ndcg lies in [0, 1]", "could never pass"], damage)
