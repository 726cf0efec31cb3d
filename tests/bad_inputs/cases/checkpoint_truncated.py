"""A truncated model.safetensors (disk full while copying a run)."""
from pathlib import Path

from tests.bad_inputs.case import run_case


def damage(run: Path) -> None:
    weights = run / "finetune" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])


CASE = run_case(["evaluate", "run_dir={run}", "--force"], ["finetune/model.safetensors", "does not match its manifest"],
                damage)
