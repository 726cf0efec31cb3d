"""A model.json naming a dynrec class that is not a model (a part of one): only the listed
model classes are built from a checkpoint, and nothing else is imported to find out."""
from pathlib import Path

from tests.bad_inputs.case import edit_model_spec, run_case


def damage(run: Path) -> None:
    edit_model_spec(run, lambda spec: spec.update(target="dynrec_cli.models.attention.CausalBlock"))


CASE = run_case(["evaluate", "run_dir={run}", "--force"],
                ["{dir}/run/finetune/model.json", "'dynrec_cli.models.attention.CausalBlock' is not a dynrec model"], damage)
