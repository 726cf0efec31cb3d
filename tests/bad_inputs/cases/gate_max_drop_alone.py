"""`--max-drop` without `--baseline`."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(["evaluate", "run_dir={run}", "--max-drop", "test/ndcg@10=5%"],
                ["--baseline RUN and --max-drop KEY=VALUE go together"], damage)
