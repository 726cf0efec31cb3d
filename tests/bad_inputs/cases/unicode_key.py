"""A config key with a non-ASCII letter (`modèl.hidden=8`)."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["evaluate", "run_dir={run}", "modèl.hidden=8"], ["unknown config key 'modèl.hidden'"], damage)
