"""What `dynrec rank` computes from the captured vectors: the recommendation table and its figures."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig
from torch import Tensor

from dynrec_cli.data.sequences import UserSequences, build_sequences, csr_rows, last_window
from dynrec_cli.data.types import TEST, TRAIN, VALID, PreparedData
from dynrec_cli.errors import ConfigError
from dynrec_cli.ranking.ann import build_index
from dynrec_cli.ranking.explain import explain
from dynrec_cli.ranking.recommend import ExactRetriever, Retriever, rank_in_chunks, recall_against_exact
from dynrec_cli.ranking.reranker import Reranker, build_reranker

INDEXES = ("exact", "faiss")


def recommendation_table(cfg: DictConfig, prepared: PreparedData, users: np.ndarray, user_vecs: Tensor,
                         item_vecs: Tensor, item_chunk: int, user_chunk: int, seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Top-`cfg.k` lists of `users` (user_id, rank, item_id, score, title[, because_ids, because]) and figures.

    Args:
        cfg: the `rank` config section.
        user_vecs: (n_users, d) interests of every user; item_vecs: (n_items + 1, d).
        users: user indices to rank.
    """
    reranker = build_reranker(cfg, prepared, item_vecs)
    history = build_sequences(prepared.events, prepared.n_users, (TRAIN, VALID, TEST))
    exclude = (lambda chunk: csr_rows(history, chunk)) if cfg.exclude_seen else None
    retriever, figures = _retriever(cfg, reranker, item_vecs, item_chunk)
    pool = max(int(cfg.candidates), reranker.k) if reranker.reranks else reranker.k
    scores, items = rank_in_chunks(user_vecs, users, retriever, reranker, pool, user_chunk, exclude)
    if cfg.index == "faiss" and int(cfg.ann_check_users) > 0:
        sample = np.sort(np.random.default_rng(seed).choice(users, min(int(cfg.ann_check_users), len(users)), replace=False))
        exact = ExactRetriever(item_vecs, item_chunk, reranker.allowed)
        check = recall_against_exact(user_vecs, sample, exact, retriever, reranker.k, user_chunk, exclude)
        figures.update({
            f"ann/recall@{reranker.k}": round(check["recall"], 4), "ann/check_users": len(sample),
            "ann/exact_ms_per_user": round(1000 * check["exact_s"] / len(sample), 4),
            "ann/faiss_ms_per_user": round(1000 * check["approx_s"] / len(sample), 4),
            "ann/speedup": round(check["exact_s"] / max(check["approx_s"], 1e-9), 2),
        })
    table = _table(prepared, users, scores, items)
    if cfg.explain:
        drivers = _explanations(history, users, items, item_vecs, cfg, user_chunk)
        table = _with_explanations(table, prepared, drivers)
    # a user who has seen almost everything gets a shorter list, not excluded items
    return table[np.isfinite(table["score"].to_numpy())].reset_index(drop=True), figures


def _retriever(cfg: DictConfig, reranker: Reranker, item_vecs: Tensor, item_chunk: int) -> tuple[Retriever, dict[str, Any]]:
    if cfg.index not in INDEXES:
        raise ConfigError(f"rank.index={cfg.index}: choose one of {', '.join(INDEXES)}")
    if cfg.index == "exact":
        return ExactRetriever(item_vecs, item_chunk, reranker.allowed), {}
    started = time.perf_counter()
    f = cfg.faiss
    index = build_index(item_vecs, reranker.allowed, str(f.kind), f.nlist, int(f.nprobe), int(f.hnsw_m), int(f.ef_search))
    return index, {"ann/index": str(f.kind), "ann/build_s": round(time.perf_counter() - started, 3)}


def _explanations(history: UserSequences, users: np.ndarray, items: Tensor, item_vecs: Tensor,
                  cfg: DictConfig, user_chunk: int) -> Tensor:
    """(U, k, explain_items) history item indices per recommendation (0 = none)."""
    parts = []
    for start in range(0, len(users), user_chunk):
        window, _ = last_window(history, users[start : start + user_chunk], int(cfg.explain_window))
        parts.append(explain(window, items[start : start + user_chunk], item_vecs, int(cfg.explain_items),
                             float(cfg.explain_half_life)))
    return torch.cat(parts) if parts else torch.zeros(0, items.shape[1], int(cfg.explain_items), dtype=torch.long)


def item_titles(prepared: PreparedData) -> np.ndarray:
    """Item index → title (or the item text where the catalogue has no title); index 0 = ''."""
    column = "title" if "title" in prepared.items.columns else "text"
    return np.concatenate([[""], prepared.items[column].fillna("").astype(str).to_numpy()])


def _table(prepared: PreparedData, users: np.ndarray, scores: Tensor, items: Tensor) -> pd.DataFrame:
    k = items.shape[1]
    item_idx = items.numpy().reshape(-1)
    item_ids = np.concatenate([[""], prepared.items["item_id"].astype(str).to_numpy()])
    return pd.DataFrame({
        "user_id": np.repeat(prepared.users["user_id"].to_numpy()[users], k),
        "rank": np.tile(np.arange(1, k + 1), len(users)),
        "item_id": item_ids[item_idx],
        "score": scores.numpy().reshape(-1),
        "title": item_titles(prepared)[item_idx],
    })


def _with_explanations(table: pd.DataFrame, prepared: PreparedData, drivers: Tensor) -> pd.DataFrame:
    """Adds `because_ids` ("id|id") and `because` ("because you watched X and Y")."""
    flat = drivers.numpy().reshape(-1, drivers.shape[2])  # one row per table row
    item_ids = np.concatenate([[""], prepared.items["item_id"].astype(str).to_numpy()])
    titles = item_titles(prepared)
    ids = ["|".join(item_ids[d] for d in row if d) for row in flat]
    texts = [because_sentence([titles[d] for d in row if d]) for row in flat]
    return table.assign(because_ids=ids, because=texts)


def because_sentence(titles: list[str]) -> str:
    if not titles:
        return ""
    named = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
    return f"because you watched {named}"
