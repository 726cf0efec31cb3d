"""Top-K ranking metrics as pure tensor functions, one value per user.

Conventions (RecBole's, binary relevance):

- ``topk_items``: (batch, K) recommended item indices, best first. A list may be
  short (a user with fewer than K items left once their history and the filters are
  excluded): its empty slots hold 0, the padding index, which is never an item and never a
  target, so it is never a hit, never covered and never counted.
- ``targets``: (batch, T) held-out item indices per user, padded with ``-1``;
  leave-one-out has T = 1, a temporal split may have several. Targets in a row
  are assumed distinct.
- Every metric takes ``hits`` (batch, K), ``n_targets`` (batch,) and a cutoff
  ``k <= K`` and returns a float (batch,) tensor. A user without targets scores
  0 everywhere; callers usually drop such users before averaging. Empty slots are
  misses: precision@k keeps the conventional k denominator however short the list
  (a list of 3 items with 1 hit has precision@10 = 0.1), and recall, NDCG, MRR and MAP
  are unchanged by them (their ideal lists depend on the targets, not on the list).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

MetricFn = Callable[[Tensor, Tensor, int], Tensor]


def hits_matrix(topk_items: Tensor, targets: Tensor) -> Tensor:
    """Which recommended items are targets.

    Args:
        topk_items: (batch, K) long recommended items, best first.
        targets: (batch, T) long target items, padded with -1.

    Returns:
        (batch, K) bool: ``hits[b, r]`` is True when ``topk_items[b, r]`` is a target of user b.
    """
    # (batch, K, T) comparison: T is small (1 for leave-one-out), so memory is fine.
    same = topk_items[:, :, None] == targets[:, None, :]
    return (same & (targets >= 0)[:, None, :]).any(dim=-1)


def count_targets(targets: Tensor) -> Tensor:
    """Number of real (non-padding) targets per user.

    Args:
        targets: (batch, T) long target items, padded with -1.

    Returns:
        (batch,) long counts.
    """
    return (targets >= 0).sum(dim=1)


def _cut(hits: Tensor, k: int) -> Tensor:
    """Float hits of the first ``k`` ranks, (batch, k); checks ``1 <= k <= K``."""
    if not 1 <= k <= hits.shape[1]:
        raise ValueError(f"cutoff k={k} must be in [1, {hits.shape[1]}] (the top-K width)")
    return hits[:, :k].float()


def _ranks(k: int, device: torch.device) -> Tensor:
    """Ranks 1..k as floats, (k,)."""
    return torch.arange(1, k + 1, dtype=torch.float32, device=device)


def _ideal_hits(n_targets: Tensor, k: int) -> Tensor:
    """How many hits a perfect top-k would hold: min(n_targets, k), long (batch,)."""
    return n_targets.clamp(max=k)


def recall_at_k(hits: Tensor, n_targets: Tensor, k: int) -> Tensor:
    """Share of the user's targets found in the top k (RecBole: divided by n_targets).

    Args:
        hits: (batch, K) bool hits, best rank first.
        n_targets: (batch,) number of targets per user.
        k: cutoff, ``1 <= k <= K``.

    Returns:
        (batch,) float recall@k; 0 for users without targets.
    """
    return _cut(hits, k).sum(dim=1) / n_targets.clamp(min=1).float()


def hit_at_k(hits: Tensor, n_targets: Tensor, k: int) -> Tensor:
    """1 when any target is in the top k, else 0. Shapes as in ``recall_at_k``."""
    del n_targets  # uniform signature
    return _cut(hits, k).amax(dim=1)


def precision_at_k(hits: Tensor, n_targets: Tensor, k: int) -> Tensor:
    """Hits in the top k divided by k (k, not the list's length: empty slots are misses).
    Shapes as in ``recall_at_k``."""
    del n_targets  # uniform signature
    return _cut(hits, k).sum(dim=1) / k


def mrr_at_k(hits: Tensor, n_targets: Tensor, k: int) -> Tensor:
    """Reciprocal rank of the first hit within the top k, 0 on a miss.

    Shapes as in ``recall_at_k``.
    """
    del n_targets  # uniform signature
    h = _cut(hits, k)
    # The largest 1/rank among hit ranks is that of the first hit.
    return (h / _ranks(k, h.device)).amax(dim=1)


def ndcg_at_k(hits: Tensor, n_targets: Tensor, k: int) -> Tensor:
    """Normalised DCG with binary relevance: sum of hits/log2(rank+1) over the ideal DCG.

    The ideal DCG places min(n_targets, k) hits at ranks 1, 2, ...
    Shapes as in ``recall_at_k``; 0 for users without targets.
    """
    h = _cut(hits, k)
    discount = 1.0 / torch.log2(_ranks(k, h.device) + 1.0)  # (k,)
    dcg = (h * discount).sum(dim=1)
    ideal_table = torch.cat([discount.new_zeros(1), discount.cumsum(dim=0)])  # (k + 1,)
    idcg = ideal_table[_ideal_hits(n_targets, k)]
    return torch.where(idcg > 0, dcg / idcg.clamp(min=1e-12), torch.zeros_like(dcg))


def map_at_k(hits: Tensor, n_targets: Tensor, k: int) -> Tensor:
    """Average precision at k: sum of precision@r over hit ranks r <= k, / min(n_targets, k).

    Shapes as in ``recall_at_k``; 0 for users without targets.
    """
    h = _cut(hits, k)
    precision_at_rank = h.cumsum(dim=1) / _ranks(k, h.device)  # (batch, k)
    return (h * precision_at_rank).sum(dim=1) / _ideal_hits(n_targets, k).clamp(min=1).float()


METRICS: dict[str, MetricFn] = {
    "ndcg": ndcg_at_k,
    "recall": recall_at_k,
    "hit": hit_at_k,
    "mrr": mrr_at_k,
    "map": map_at_k,
    "precision": precision_at_k,
}


def compute_user_metrics(topk_items: Tensor, targets: Tensor, ks: list[int]) -> dict[str, Tensor]:
    """Every metric at every cutoff, per user.

    Args:
        topk_items: (batch, K) long recommended items, best first; K >= max(ks).
        targets: (batch, T) long target items, padded with -1.
        ks: cutoffs, each in [1, K].

    Returns:
        ``{"ndcg@10": (batch,) float, "recall@10": ..., ...}``: keys ``name@k`` for
        each name in ``METRICS`` and each k in ``ks``.
    """
    hits = hits_matrix(topk_items, targets)
    n_targets = count_targets(targets)
    return {f"{name}@{k}": fn(hits, n_targets, k) for k in ks for name, fn in METRICS.items()}


def item_coverage(topk_items: Tensor, k: int, n_items: int) -> float:
    """Share of the catalogue that appears in at least one user's top k.

    Args:
        topk_items: (batch, K) long recommended items, best first; empty slots
            (0, or negative) are ignored.
        k: cutoff; only the first k columns count.
        n_items: catalogue size, > 0.

    Returns:
        Distinct recommended items / n_items, in [0, 1].
    """
    if n_items <= 0:
        raise ValueError(f"n_items must be > 0, got {n_items}")
    items = topk_items[:, :k]
    distinct = torch.unique(items[items > 0]).numel()  # CPU-GPU sync point
    return distinct / n_items
