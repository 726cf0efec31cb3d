"""A truncated model.safetensors whose manifest was updated too: the safetensors reader refuses it."""
from pathlib import Path

from tests.bad_inputs.case import rehash, run_case


def damage(run: Path) -> None:
    weights = run / "finetune" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    rehash(run / "finetune", "model.safetensors")


CASE = run_case(["evaluate", "run_dir={run}", "--force"], ["finetune/model.safetensors", "not a safetensors checkpoint"],
                damage)
