"""`--fail-under test/ndcg@10` without a floor."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["evaluate", "run_dir={run}", "--fail-under", "test/ndcg@10"],
                ["--fail-under test/ndcg@10: expected KEY=NUMBER"], damage)
