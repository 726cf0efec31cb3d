"""Beyond-accuracy metrics of top-K lists: diversity, novelty, popularity bias, concentration.

Conventions follow ``metrics.py``: ``topk_items`` is (batch, K) long, best first, items
1..n_items, 0 in the empty slots of a short list. Per-user functions return a float (batch,)
tensor over the items a list holds (a mean over its real items; ILD over its pairs), 0 for a
list too short to have one (no item; fewer than two for ILD); ``gini_at_k`` summarises the
whole population of lists.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _held(topk_items: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The first k slots as indices safe to gather with (empty slots -> 0) and how many hold an item."""
    items = topk_items[:, :k].clamp_min(0)
    return items, (items > 0).sum(dim=1)


def _without_padding(table: Tensor) -> Tensor:
    """`table` (n_items + 1, ...) with row 0 zeroed: an empty slot gathers nothing."""
    table = table.clone()
    table[0] = 0
    return table


def _mean_over_items(values: Tensor, items: Tensor, held: Tensor) -> Tensor:
    """Per-row mean of values[item] over the items a list holds, (batch,); 0 for an empty list."""
    return _without_padding(values)[items].sum(dim=1) / held.clamp_min(1)


def intra_list_diversity(topk_items: Tensor, item_vecs: Tensor, k: int) -> Tensor:
    """1 − mean pairwise cosine similarity of the top-k items' vectors (pairs of real items).

    Args:
        topk_items: (batch, K) long recommended items.
        item_vecs: (n_items + 1, d) the model's item table (``model.item_vectors()``).
        k: cutoff, 2 <= k <= K.

    Returns:
        (batch,) float in [0, 2]; 0 when every item points the same way, and for a list of
        fewer than two items (no pair to compare).
    """
    if not 2 <= k <= topk_items.shape[1]:
        raise ValueError(f"diversity needs 2 <= k <= {topk_items.shape[1]}, got {k}")
    items, held = _held(topk_items, k)
    unit = _without_padding(torch.nn.functional.normalize(item_vecs.float(), dim=-1))
    vecs = unit[items]  # (batch, k, d); an empty slot is a zero vector and adds nothing
    gram = vecs @ vecs.transpose(1, 2)  # (batch, k, k)
    off_diagonal = gram.sum(dim=(1, 2)) - gram.diagonal(dim1=1, dim2=2).sum(dim=1)
    pairs = (held * (held - 1)).float()
    return torch.where(pairs > 0, 1.0 - off_diagonal / pairs.clamp_min(1), torch.zeros_like(off_diagonal))


def self_information(train_counts: Tensor) -> Tensor:
    """−log2 of each item's share of training events, add-one smoothed so unseen items are finite.

    Args:
        train_counts: (n_items + 1,) training events per item (row 0 = padding).

    Returns:
        (n_items + 1,) float bits; rarer items carry more.
    """
    counts = train_counts.float() + 1.0
    return -torch.log2(counts / counts[1:].sum())


def novelty(topk_items: Tensor, information: Tensor, k: int) -> Tensor:
    """Mean self-information (bits) of the top-k items a list holds, (batch,); see ``self_information``."""
    return _mean_over_items(information, *_held(topk_items, k))


def popularity_ranks(train_counts: Tensor) -> Tensor:
    """Each item's rank by training popularity, 1 = most popular (ties by lower index), (n_items + 1,)."""
    order = torch.argsort(-train_counts[1:].float(), stable=True) + 1
    ranks = torch.zeros_like(train_counts, dtype=torch.float32)
    ranks[order] = torch.arange(1, len(order) + 1, dtype=torch.float32)
    return ranks


def mean_popularity_rank(topk_items: Tensor, ranks: Tensor, k: int) -> Tensor:
    """Mean popularity rank of the top-k items a list holds, (batch,); higher = less popular lists."""
    return _mean_over_items(ranks, *_held(topk_items, k))


def gini_at_k(topk_items: Tensor, k: int, n_items: int) -> float:
    """Gini coefficient of how often each catalogue item is recommended in the top k.

    0: every item recommended equally often; → 1: a few items take every slot. Items never
    recommended count as zeros.

    Args:
        topk_items: (batch, K) long recommended items; empty slots (0, or negative) are ignored.
        k: cutoff.
        n_items: catalogue size, > 1.
    """
    items = topk_items[:, :k]
    counts = torch.bincount(items[items > 0].flatten(), minlength=n_items + 1)[1:].double()
    total = counts.sum()
    if total == 0:
        return 0.0
    ordered, _ = torch.sort(counts)
    index = torch.arange(1, n_items + 1, dtype=torch.float64)
    return float(((2 * index - n_items - 1) * ordered).sum() / (n_items * total))


def beyond_accuracy(
    topk_items: Tensor, item_vecs: Tensor, train_counts: Tensor, ks: list[int], chunk: int = 4096
) -> dict[str, Tensor]:
    """``ild@k``, ``novelty@k`` and ``poprank@k`` per user for each k, in user chunks.

    Args:
        topk_items: (n_users, K) long recommended items.
        item_vecs: (n_items + 1, d) item table.
        train_counts: (n_items + 1,) training events per item.
        chunk: users per step; the diversity step holds chunk × K × K similarities.
    """
    information, ranks = self_information(train_counts), popularity_ranks(train_counts)
    parts: dict[str, list[Tensor]] = {}
    for start in range(0, topk_items.shape[0], chunk):
        top = topk_items[start : start + chunk]
        for k in ks:
            if k >= 2:
                parts.setdefault(f"ild@{k}", []).append(intra_list_diversity(top, item_vecs, k))
            parts.setdefault(f"novelty@{k}", []).append(novelty(top, information, k))
            parts.setdefault(f"poprank@{k}", []).append(mean_popularity_rank(top, ranks, k))
    return {name: torch.cat(values) for name, values in parts.items()}
