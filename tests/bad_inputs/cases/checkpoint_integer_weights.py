"""model.safetensors with every tensor cast to int64 (manifest rehashed): load_state_dict cast them
back into the float weights (0s and 1s) and evaluate wrote figures of that model (exit 0) before round 2."""
from pathlib import Path

import torch

from tests.bad_inputs.case import edit_tensors, rehash, run_case


def damage(run: Path) -> None:
    edit_tensors(run / "finetune" / "model.safetensors", lambda t: t.update({k: v.to(torch.int64) for k, v in t.items()}))
    rehash(run / "finetune", "model.safetensors")


CASE = run_case(["evaluate", "run_dir={run}", "--force"],
                ["{dir}/run/finetune/model.safetensors: tensor", "is int64, the model holds float32"], damage)
