"""A model.json whose sizes no machine can allocate: its kwargs meet the bounds a config does."""
from pathlib import Path

from tests.bad_inputs.case import edit_model_spec, run_case


def damage(run: Path) -> None:
    edit_model_spec(run, lambda spec: spec["kwargs"].update(hidden=1_000_000_000))


CASE = run_case(["evaluate", "run_dir={run}", "--force"],
                ["{dir}/run/finetune/model.json", "model.hidden=1000000000", "[1, 16384]"], damage, limits={"RLIMIT_AS": 4 << 30})
