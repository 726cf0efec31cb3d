"""overrides.json adding a nested `_target_: builtins.exec` under the optimiser."""
from pathlib import Path

from tests.bad_inputs.case import add_recorded, run_case


def damage(run: Path) -> None:
    add_recorded(run, "+trainer.optimizer.foo={_target_:builtins.exec}")


CASE = run_case(
    ["train", "run_dir={run}"],
    ["{dir}/run/overrides.json", "trainer.optimizer.foo._target_='builtins.exec': dynrec builds nothing"],
    damage,
)
