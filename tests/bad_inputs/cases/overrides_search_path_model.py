"""overrides.json adding a search path to a folder beside the run with a model option naming
builtins.exec, and choosing it."""
from pathlib import Path

from tests.bad_inputs.case import MARKER, add_recorded, run_case


def damage(run: Path) -> None:
    option = run.parent / "conf" / "model" / "evil.yaml"
    option.parent.mkdir(parents=True)
    option.write_text(f"_target_: builtins.exec\nsource: open('{run.parent / MARKER}', 'w')\nhidden: 8\nlayers: 1\nheads: 1\nmax_len: 8\n")
    add_recorded(run, f"hydra.searchpath=[file://{run.parent / 'conf'}]", "model=evil")


CASE = run_case(
    ["evaluate", "run_dir={run}"],
    ["{dir}/run/overrides.json", "recorded override 'model'", "model._target_='builtins.exec' is not a dynrec model"],
    damage, absent=["open("],
)
