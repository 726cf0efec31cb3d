"""rank: top-K list per user from the captured interests, excluding what they have seen."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from dynrec_cli import artifacts, run_files
from dynrec_cli.errors import ConfigError
from dynrec_cli.ranking.lists import recommendation_table
from dynrec_cli.stages.base import Stage, StageContext
from dynrec_cli.stages.capture import INTERESTS

log = logging.getLogger(__name__)
FORMATS = ("parquet", "csv", "jsonl")


class RankStage(Stage):
    NAME = "rank"
    DEPENDS = ("prepare", "capture")
    MEMORY_KEYS = ("eval.user_chunk", "eval.item_chunk", "rank.candidates")

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        return {"rank": cfg.rank, "eval.item_chunk": cfg.eval.item_chunk, "eval.user_chunk": cfg.eval.user_chunk,
                "seed": cfg.seed}

    def inputs(self, ctx: StageContext) -> dict[str, str]:
        from dynrec_cli.capture.run import store_folder
        from dynrec_cli.capture.store import fingerprint

        store = fingerprint(store_folder(ctx))  # a capture changes the lists: rank again
        return {**super().inputs(ctx), **({"store": store} if store else {})}

    def run(self, ctx: StageContext, out: Path) -> dict[str, Any]:
        from dynrec_cli.capture.view import CAPTURED, captured_users, store_view

        cfg, prepared = ctx.cfg.rank, ctx.prepared()
        view = store_view(ctx)  # once `dynrec capture` made an interest store, rank from it (new users and items too)
        if view is not None:
            prepared, tensors = view.prepared, {"users": view.user_vectors, "items": view.item_vectors}
        else:
            tensors = run_files.read_tensors(artifacts.verified_file(ctx.stage_dir("capture"), INTERESTS), ("users", "items"))
        users = captured_users(view) if cfg.users == CAPTURED else _select_users(prepared.users, cfg.users)
        table, figures = recommendation_table(cfg, prepared, users, tensors["users"], tensors["items"],
                                              int(ctx.cfg.eval.item_chunk), int(ctx.cfg.eval.user_chunk), int(ctx.cfg.seed))
        _write(table, out, str(cfg.format))
        return {"users": len(users), "k": int(cfg.k), "rows": len(table), "distinct_items": int(table["item_id"].nunique()),
                **figures}

    def report(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        from dynrec_cli.ranking.report import print_rank_figures

        print_rank_figures(manifest["figures"])


def check_against_prepared(ctx: StageContext) -> None:
    """rank.users and rank.filter against the prepared data, called as soon as prepare is done,
    so that an unknown user, item or category column fails before training, not after it. Once
    captures made an interest store (new users and items), the rank stage checks them itself."""
    from dynrec_cli.capture.run import store_folder
    from dynrec_cli.capture.view import CAPTURED
    from dynrec_cli.ranking.reranker import filter_mask

    cfg = ctx.cfg.rank
    if store_folder(ctx).exists():
        return
    if cfg.users is not None and cfg.users != CAPTURED:
        _select_users(ctx.prepared().users, cfg.users)
    if "filter" in cfg.strategies:
        filter_mask(cfg.filter, ctx.prepared())


def _select_users(users: pd.DataFrame, wanted: Any) -> np.ndarray:
    """The user indices of `wanted` (original ids; None = every user)."""
    if wanted is None:  # every user, but those forgotten since (their row is kept blank: capture/forget.py)
        from dynrec_cli.capture.store import FORGOTTEN

        return users["user_idx"].to_numpy(copy=True)[~users["user_id"].astype(str).str.startswith(FORGOTTEN).to_numpy()]
    wanted = [str(u) for u in wanted]
    index = pd.Index(users["user_id"].astype(str))
    positions = index.get_indexer(wanted)
    unknown = [u for u, p in zip(wanted, positions) if p < 0]
    if unknown:
        raise ConfigError(f"rank.users: unknown user id(s) {', '.join(unknown[:5])} (not in the prepared data; "
                          "rank.users=null ranks every user)")
    return users["user_idx"].to_numpy(copy=True)[positions]


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
