"""`--baseline` naming a file."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["evaluate", "run_dir={run}", "--baseline", "{run}/metrics.json", "--max-drop", "test/ndcg@10=5%"],
                ["--baseline {dir}/run/metrics.json: no evaluated run there"], damage)
