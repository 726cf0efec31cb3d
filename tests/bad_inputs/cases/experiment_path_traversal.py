"""`+experiment=../../../etc/passwd`."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["evaluate", "run_dir={run}", "+experiment=../../../etc/passwd"],
                ["+experiment=../../../etc/passwd: no experiment/ folder"], damage)
