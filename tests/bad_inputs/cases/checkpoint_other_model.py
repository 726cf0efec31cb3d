"""Weights from another model config: model.json says hidden=16, the tensors are hidden=8."""
import json
from pathlib import Path

from tests.bad_inputs.case import rehash, run_case


def damage(run: Path) -> None:
    spec_path = run / "finetune" / "model.json"
    spec = json.loads(spec_path.read_text())
    spec["kwargs"]["hidden"] = 16
    spec_path.write_text(json.dumps(spec))
    rehash(run / "finetune", "model.json")


CASE = run_case(["evaluate", "run_dir={run}", "--force"], ["finetune/model.safetensors", "do not fit the model", "size mismatch"],
                damage)
