"""A `_target_` smuggled in through `${oc.decode:...}` on the command line: the allowlist sees the
resolved value."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    """Nothing to spoil: the run is fine, the command is not."""


CASE = run_case(
    ["evaluate", "run_dir={run}", "+trainer.optimizer.eps='${oc.decode:\"{_target_: builtins.print, _args_: [hello]}\"}'"],
    ["trainer.optimizer.eps._target_='builtins.print': dynrec builds nothing"],
    damage,
)
