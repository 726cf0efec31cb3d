"""`--config-dir` naming a file."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["evaluate", "run_dir={run}", "--config-dir", "{run}/overrides.json"],
                ["--config-dir {dir}/run/overrides.json: not a folder"], damage)
