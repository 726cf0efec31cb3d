"""A model.json naming a class outside dynrec's models (it could run any code)."""
from pathlib import Path

from tests.bad_inputs.case import edit_model_spec, run_case


def damage(run: Path) -> None:
    edit_model_spec(run, lambda spec: spec.update(target="os.system"))


CASE = run_case(["evaluate", "run_dir={run}", "--force"], ["finetune/model.json", "os.system", "not a dynrec model"], damage)
