"""A model.json naming a class that does not exist (a module of another dynrec version)."""
from pathlib import Path

from tests.bad_inputs.case import edit_model_spec, run_case


def damage(run: Path) -> None:
    edit_model_spec(run, lambda spec: spec.update(target="dynrec_cli.models.bert4rec.BERT4Rec"))


CASE = run_case(["evaluate", "run_dir={run}", "--force"],
                ["{dir}/run/finetune/model.json", "'dynrec_cli.models.bert4rec.BERT4Rec' is not a dynrec model"], damage)
