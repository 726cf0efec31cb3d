"""An allowed drop that is not a number: no interval is below -NaN, so the gate could never fail."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the gate is not."""


CASE = run_case(["evaluate", "run_dir={run}", "--baseline", "{run}", "--max-drop", "test/ndcg@10=nan"],
                ["--max-drop test/ndcg@10=nan", "not a finite number"], damage)
