"""An allowed drop of 100% or more against a baseline: no figure drops below 0, so it could never fail."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the gate is not."""


CASE = run_case(["evaluate", "run_dir={run}", "--baseline", "{run}", "--max-drop", "test/ndcg@10=100%"],
                ["--max-drop test/ndcg@10=100%", "could never fail"], damage)
