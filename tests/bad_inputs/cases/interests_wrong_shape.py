"""capture/interests.safetensors holding 3 × 2 vectors for 8 users (manifest rehashed): rank crashed
with an IndexError (exit 1) before round 2."""
from pathlib import Path

import torch

from tests.bad_inputs.case import edit_tensors, rehash, run_case


def damage(run: Path) -> None:
    edit_tensors(run / "capture" / "interests.safetensors", lambda t: t.update({k: torch.zeros(3, 2) for k in t}))
    rehash(run / "capture", "interests.safetensors")


CASE = run_case(["rank", "run_dir={run}", "--force"],
                ["{dir}/run/capture/interests.safetensors: tensor users has shape [3, 2], expected 8 rows"], damage)
