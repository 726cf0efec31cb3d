"""Top-K lists for many users: retrieval (exact or faiss) → re-ranking → explanations, chunk by chunk.

Users go through in chunks of `user_chunk`, so memory is user_chunk × (item_chunk + pool)
scores plus the item table and the (users, k) result, whatever the number of users.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import Tensor

from dynrec_cli.ranking.reranker import Reranker
from dynrec_cli.ranking.scoring import topk_for_users

Pairs = tuple[Tensor, Tensor]
ExcludeFn = Callable[[np.ndarray], Pairs | None]


class Retriever(Protocol):
    def top(self, user_vecs: Tensor, n: int, exclude: Pairs | None) -> tuple[Tensor, Tensor]:
        """Top-n (scores, items), each (B, n), best first; -inf marks an empty slot."""
        ...


@dataclass
class ExactRetriever:
    """Every item scored, in chunks of `item_chunk` with a running top-K."""

    item_vecs: Tensor
    item_chunk: int
    allowed: Tensor | None = None

    def top(self, user_vecs: Tensor, n: int, exclude: Pairs | None) -> tuple[Tensor, Tensor]:
        return topk_for_users(user_vecs, self.item_vecs, n, self.item_chunk, exclude, self.allowed)


def _progress(total: int) -> Progress:
    return Progress(TextColumn("[bold]rank"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    transient=True, disable=total < 8)


@torch.inference_mode()
def rank_in_chunks(user_vecs: Tensor, users: np.ndarray, retriever: Retriever, reranker: Reranker,
                   pool: int, user_chunk: int, exclude: ExcludeFn | None = None) -> tuple[Tensor, Tensor]:
    """Final top-k lists of `users`.

    Args:
        user_vecs: (n_users, d) every user's interest; rows `users` are ranked.
        users: (U,) user indices.
        pool: candidates retrieved per user before re-ranking (>= reranker.k).
        exclude: `exclude(chunk_users)` gives the (row in chunk, item) pairs not to recommend.

    Returns:
        scores (U, k) (the model's) and items (U, k); -inf / 0 mark empty slots.
    """
    k = reranker.k
    scores = torch.full((len(users), k), -torch.inf)
    items = torch.zeros(len(users), k, dtype=torch.long)
    starts = range(0, len(users), user_chunk)
    with _progress(len(starts)) as bar:
        task = bar.add_task("rank", total=len(starts))
        for start in starts:
            chunk = users[start : start + user_chunk]
            pool_scores, pool_items = retriever.top(user_vecs[chunk], pool, exclude(chunk) if exclude else None)
            top_scores, top_items = reranker(pool_scores, pool_items)
            width = top_items.shape[1]
            scores[start : start + len(chunk), :width] = top_scores
            items[start : start + len(chunk), :width] = top_items
            bar.advance(task)
    return scores, torch.where(torch.isfinite(scores), items, 0)


def recall_against_exact(user_vecs: Tensor, users: np.ndarray, exact: Retriever, approximate: Retriever, k: int,
                         user_chunk: int, exclude: ExcludeFn | None) -> dict[str, float]:
    """Recall@k of the approximate top-k of `users` against the exact one, and the seconds each took.

    Returns:
        {"recall": mean over users of |approx ∩ exact| / |exact|, "exact_s": …, "approx_s": …}.
    """
    found, seconds = {}, {}
    plain = Reranker(k=k, item_vecs=torch.zeros(0))
    for name, retriever in (("exact", exact), ("approx", approximate)):
        started = time.perf_counter()
        found[name] = rank_in_chunks(user_vecs, users, retriever, plain, k, user_chunk, exclude)[1]
        seconds[name] = time.perf_counter() - started
    truth, guess = found["exact"], found["approx"]
    hits = ((truth[:, :, None] == guess[:, None, :]) & (truth[:, :, None] > 0)).any(dim=2).sum(dim=1)
    relevant = (truth > 0).sum(dim=1).clamp_min(1)
    return {"recall": float((hits / relevant).mean()), "exact_s": seconds["exact"], "approx_s": seconds["approx"]}
