"""`dynrec forget user=' '` (an id of spaces)."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["forget", "run_dir={run}", "user=' '"], ["user=: empty id"], damage)
