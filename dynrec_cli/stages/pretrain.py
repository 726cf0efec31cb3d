"""pretrain: load the language model and encode item text. ID-only models pass through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from dynrec_cli.stages.base import Stage, StageContext


class PretrainStage(Stage):
    NAME = "pretrain"
    DEPENDS = ("prepare",)

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        return {"encoder": cfg.encoder}

    def run(self, ctx: StageContext, out: Path) -> dict[str, Any]:
        return {"encoder": str(ctx.cfg.encoder.name), "note": "ID-only model: no language model needed"}
