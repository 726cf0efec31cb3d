"""`dynrec serve serve.port=99999`."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["serve", "run_dir={run}", "serve.port=99999"],
                ["serve.port=99999: must be an integer in [1, 65535]"], damage)
