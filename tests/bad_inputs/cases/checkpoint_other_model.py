"""Weights from another model config: model.json says hidden=16, the tensors are hidden=8."""
from pathlib import Path

from tests.bad_inputs.case import edit_model_spec, run_case


def damage(run: Path) -> None:
    edit_model_spec(run, lambda spec: spec["kwargs"].update(hidden=16))


CASE = run_case(["evaluate", "run_dir={run}", "--force"], ["finetune/model.safetensors", "do not fit the model", "size mismatch"], damage)
