"""A cut-off deeper than the catalogue (K=50 with 12 items)."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the request is not."""


CASE = run_case(["evaluate", "run_dir={run}", "eval.ks=[5,50]"], ["eval.ks=[5, 50]", "K=50", "12 items"], damage)
