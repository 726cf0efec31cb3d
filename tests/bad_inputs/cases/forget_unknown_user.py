"""`dynrec forget` of a user the run never saw."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["forget", "run_dir={run}", "user=nobody"], ["user=nobody: not in the run's data"], damage)
