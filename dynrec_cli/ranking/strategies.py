"""Re-ranking of a candidate pool, batched over users: score adjustments and MMR diversity.

A pool is `items (B, C)` with the model's `scores (B, C)`, best first; `-inf` marks an empty
slot (a user with fewer than C rankable items). Strategies work on a *relevance* in [0, 1]
(the pool's scores min-max scaled per user), so their weights mean the same thing whatever
the model's score scale: a weight of 0.2 moves an item by a fifth of the user's pool range.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def relevance(scores: Tensor) -> Tensor:
    """Scores min-max scaled to [0, 1] per row over its finite entries; -inf stays -inf.

    Args:
        scores: (B, C) model scores.

    Returns:
        (B, C) relevance.
    """
    finite = torch.isfinite(scores)
    low = torch.where(finite, scores, torch.inf).amin(dim=1, keepdim=True)
    high = torch.where(finite, scores, -torch.inf).amax(dim=1, keepdim=True)
    scaled = (scores - low) / (high - low).clamp_min(1e-12)
    return torch.where(finite, scaled, -torch.inf)


def adjust(rel: Tensor, items: Tensor, feature: Tensor, weight: float) -> Tensor:
    """rel + weight × feature[item]: a boost (weight > 0) or a penalty (weight < 0).

    Args:
        rel: (B, C) relevance; items: (B, C) item indices; feature: (n_items + 1,) per-item value.

    Returns:
        (B, C) adjusted relevance (-inf slots stay -inf).
    """
    return rel + weight * feature[items]


def sort_pool(rel: Tensor, *columns: Tensor) -> tuple[Tensor, ...]:
    """Reorder `rel` and each (B, C) column by relevance, highest first (stable: ties keep pool order)."""
    order = torch.sort(-rel, dim=1, stable=True).indices
    return (rel.gather(1, order), *(c.gather(1, order) for c in columns))


def mmr_order(rel: Tensor, vectors: Tensor, k: int, lam: float) -> Tensor:
    """Maximal marginal relevance: greedily pick k of C, each maximising λ·rel − (1−λ)·max cos to the picked.

    The loop runs over the k picks, never over users: every step is one batched argmax.

    Args:
        rel: (B, C) relevance (-inf = empty slot, picked only when nothing else is left).
        vectors: (B, C, d) the candidates' item embeddings.
        k: picks, k <= C.
        lam: 1 = pure relevance, 0 = pure diversity.

    Returns:
        (B, k) positions into the pool, in pick order.
    """
    unit = F.normalize(vectors.float(), dim=-1)
    similarity = unit @ unit.transpose(1, 2)  # (B, C, C) cosine between candidates
    batch, width = rel.shape
    rows = torch.arange(batch, device=rel.device)
    redundancy = torch.zeros_like(rel)  # max cosine to what is already picked (0 before the first pick)
    taken = torch.zeros_like(rel, dtype=torch.bool)
    picks = torch.empty(batch, k, dtype=torch.long, device=rel.device)
    for step in range(min(k, width)):
        value = lam * rel - (1.0 - lam) * redundancy
        value = torch.where(torch.isfinite(rel), value, torch.finfo(rel.dtype).min)  # empty slots last
        value = value.masked_fill(taken, -torch.inf)
        pick = value.argmax(dim=1)
        picks[:, step] = pick
        taken[rows, pick] = True
        chosen = similarity[rows, pick]  # (B, C)
        redundancy = chosen if step == 0 else torch.maximum(redundancy, chosen)
    return picks
