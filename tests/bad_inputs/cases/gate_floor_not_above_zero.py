"""A CI floor of -1: every figure is >= 0, so the gate could never fail."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the gate is not."""


CASE = run_case(["evaluate", "run_dir={run}", "--fail-under", "test/recall@10=-1"],
                ["--fail-under test/recall@10=-1", "could never fail"], damage)
