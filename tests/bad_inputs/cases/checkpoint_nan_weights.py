"""model.safetensors whose weights are NaN (manifest rehashed): every score NaN, figures written
(exit 0) before round 2."""
from pathlib import Path

from tests.bad_inputs.case import edit_tensors, rehash, run_case


def damage(run: Path) -> None:
    edit_tensors(run / "finetune" / "model.safetensors", lambda t: t.update({k: v * float("nan") for k, v in t.items()}))
    rehash(run / "finetune", "model.safetensors")


CASE = run_case(["evaluate", "run_dir={run}", "--force"],
                ["{dir}/run/finetune/model.safetensors: tensor", "holds NaN or infinite values"], damage)
