"""rank: top-K list per user from the captured interests, excluding what they have seen."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig

from dynrec_cli import artifacts
from dynrec_cli.data.sequences import csr_rows, split_views
from dynrec_cli.errors import ConfigError
from dynrec_cli.ranking.scoring import topk_for_users
from dynrec_cli.stages.base import Stage, StageContext
from dynrec_cli.stages.capture import INTERESTS

log = logging.getLogger(__name__)
FORMATS = ("parquet", "csv", "jsonl")


class RankStage(Stage):
    NAME = "rank"
    DEPENDS = ("prepare", "capture")

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        return {"rank": cfg.rank, "eval.item_chunk": cfg.eval.item_chunk}

    def run(self, ctx: StageContext, out: Path) -> dict[str, Any]:
        from safetensors.torch import load_file

        cfg, prepared = ctx.cfg.rank, ctx.prepared()
        tensors = load_file(str(artifacts.verified_file(ctx.stage_dir("capture"), INTERESTS)))
        users = _select_users(prepared.users, cfg.users)
        exclude = None
        if cfg.exclude_seen:
            rows, seen = csr_rows(split_views(prepared.events, prepared.n_users).everything, users)
            exclude = (rows, seen)
        scores, items = topk_for_users(tensors["users"][users], tensors["items"], int(cfg.k), int(ctx.cfg.eval.item_chunk), exclude)
        table = _recommendation_table(prepared, users, scores, items)
        _write(table, out, str(cfg.format))
        return {"users": len(users), "k": int(cfg.k), "rows": len(table), "distinct_items": int(table["item_id"].nunique())}


def _select_users(users: pd.DataFrame, wanted: Any) -> np.ndarray:
    if not wanted:
        return users["user_idx"].to_numpy(copy=True)
    wanted = [str(u) for u in wanted]
    index = pd.Index(users["user_id"].astype(str))
    positions = index.get_indexer(wanted)
    unknown = [u for u, p in zip(wanted, positions) if p < 0]
    if unknown:
        raise ConfigError(f"rank.users: unknown user id(s) {', '.join(unknown[:5])} (not in the prepared data)")
    return users["user_idx"].to_numpy(copy=True)[positions]


def _recommendation_table(prepared: Any, users: np.ndarray, scores: torch.Tensor, items: torch.Tensor) -> pd.DataFrame:
    k = items.shape[1]
    item_idx = items.numpy().reshape(-1)
    catalogue = prepared.items.set_index("item_idx")
    title_column = "title" if "title" in catalogue.columns else "text"
    table = pd.DataFrame(
        {
            "user_id": np.repeat(prepared.users["user_id"].to_numpy()[users], k),
            "rank": np.tile(np.arange(1, k + 1), len(users)),
            "item_id": catalogue["item_id"].to_numpy()[item_idx - 1],
            "score": scores.numpy().reshape(-1),
            "title": catalogue[title_column].to_numpy()[item_idx - 1],
        }
    )
    # a user who has seen almost everything gets a shorter list, not excluded items
    return table[np.isfinite(table["score"].to_numpy())].reset_index(drop=True)


def _write(table: pd.DataFrame, out: Path, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"rank.format={fmt}: choose one of {', '.join(FORMATS)}")
    path = out / f"recommendations.{fmt}"
    if fmt == "parquet":
        table.to_parquet(path, index=False)
    elif fmt == "csv":
        table.to_csv(path, index=False)
    else:
        table.to_json(path, orient="records", lines=True, force_ascii=False)
