"""rank: top-K list per user from the captured interests, excluding what they have seen."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from dynrec_cli import artifacts, run_files
from dynrec_cli.errors import ConfigError
from dynrec_cli.ranking.lists import recommendation_table
from dynrec_cli.stages.base import Stage, StageContext
from dynrec_cli.stages.capture import INTERESTS

if TYPE_CHECKING:
    from torch import Tensor

    from dynrec_cli.capture.view import StoreView
    from dynrec_cli.data.types import PreparedData

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
        table, figures = rank_table(ctx, ctx.cfg.rank.users)
        _write(table, out, str(ctx.cfg.rank.format))
        return figures

    def report(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        from dynrec_cli.ranking.report import print_rank_figures

        print_rank_figures(manifest["figures"])


def interests(ctx: StageContext) -> tuple[PreparedData, Tensor, Tensor, StoreView | None]:
    """What ranking reads: the prepared data, user vectors (n_users, d) and item vectors
    (n_items + 1, d; row 0 is padding) of the capture stage, or of the run's interest store once
    `dynrec capture` made one (new users and items too), and that store's view (or None)."""
    from dynrec_cli.capture.view import store_view

    view = store_view(ctx)
    if view is not None:
        return view.prepared, view.user_vectors, view.item_vectors, view
    path = artifacts.verified_file(ctx.stage_dir("capture"), INTERESTS)
    tensors, prepared = run_files.read_tensors(path, ("users", "items")), ctx.prepared()
    run_files.check_rows(path, tensors, {"users": len(prepared.users), "items": len(prepared.items) + 1})
    return prepared, tensors["users"], tensors["items"], None


def rank_table(ctx: StageContext, wanted: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The top-`rank.k` lists of the users `wanted` (original ids; None = every user; `captured`)
    as `dynrec rank` writes them, and the stage's figures."""
    from dynrec_cli.capture.view import CAPTURED, captured_users

    cfg = ctx.cfg.rank
    prepared, user_vecs, item_vecs, view = interests(ctx)
    users = captured_users(view) if wanted == CAPTURED else _select_users(prepared.users, wanted)
    table, figures = recommendation_table(cfg, prepared, users, user_vecs, item_vecs,
                                          int(ctx.cfg.eval.item_chunk), int(ctx.cfg.eval.user_chunk), int(ctx.cfg.seed))
    return table, {"users": len(users), "k": int(cfg.k), "rows": len(table), "distinct_items": int(table["item_id"].nunique()),
                   **figures}


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
