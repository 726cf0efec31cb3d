"""`dynrec compare` naming a folder that does not exist."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["compare", "{run}", "{dir}/nope", "--out", "{dir}/out"], ["{dir}/nope: no such run folder"], damage)
