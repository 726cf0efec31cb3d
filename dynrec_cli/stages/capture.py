"""capture: each user's interest vector from their whole known history, and the item table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig

from dynrec_cli import artifacts
from dynrec_cli.data.sequences import last_window, split_views
from dynrec_cli.stages.base import Stage, StageContext
from dynrec_cli.training.checkpoint import load_model
from dynrec_cli.training.device import resolve_device

INTERESTS = "interests.safetensors"


class CaptureStage(Stage):
    NAME = "capture"
    DEPENDS = ("prepare", "finetune")
    MEMORY_KEYS = ("eval.user_chunk",)

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        return {"eval.user_chunk": cfg.eval.user_chunk}

    @torch.inference_mode()
    def run(self, ctx: StageContext, out: Path) -> dict[str, Any]:
        from safetensors.torch import save_file

        prepared = ctx.prepared()
        device = resolve_device(ctx.cfg.trainer.device)
        model = load_model(ctx.stage_dir("finetune")).to(device)
        everything = split_views(prepared.events, prepared.n_users).everything
        max_len = getattr(model, "max_len", 1)
        chunk = int(ctx.cfg.eval.user_chunk)
        users = np.arange(prepared.n_users)
        parts = []
        for start in range(0, len(users), chunk):
            items, times = last_window(everything, users[start : start + chunk], max_len)
            parts.append(model.user_vectors(items.to(device), times.to(device)).float().cpu())
        tensors = {"users": torch.cat(parts).contiguous(), "items": model.item_vectors().float().cpu().contiguous()}
        with artifacts.atomic_path(out / INTERESTS) as tmp:
            save_file(tensors, str(tmp))
        return {"users": len(users), "dim": int(tensors["users"].shape[1])}
