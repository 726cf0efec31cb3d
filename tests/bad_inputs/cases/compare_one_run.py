"""`dynrec compare` with one run."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["compare", "{run}", "--out", "{dir}/out"], ["compare: give at least two run folders"], damage)
