"""Explanations: which of a user's history items drove each recommendation most.

Attribution by similarity: history item x_i contributes w_i · cos(O(x_i), O(y)) to
recommended item y, where O is the model's own item table (what the model treats as alike)
and w_i = 0.5 ** (steps back from the latest event / half-life), because sequential models
lean on the latest events. Every model scores I(x)·O(y) with I built from the O(x_i), so this
is a model-agnostic reading of the score that works for all of them at one batched matmul.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def explain(history: Tensor, recommended: Tensor, item_vecs: Tensor, n: int, half_life: float) -> Tensor:
    """The `n` history items with the largest positive contribution to each recommended item.

    Args:
        history: (B, W) long, the users' latest items, left-padded with 0, newest last.
        recommended: (B, k) long item indices (0 = empty slot).
        item_vecs: (n_items + 1, d) item table.
        n: explaining items per recommendation.
        half_life: events back at which a history item's weight halves.

    Returns:
        (B, k, n) long history item indices, strongest first; 0 where fewer qualify.
    """
    batch, width = history.shape
    steps_back = torch.arange(width - 1, -1, -1, dtype=torch.float32)
    weight = torch.pow(0.5, steps_back / half_life).expand(batch, width)  # (B, W)
    # an item seen twice counts once, at its latest position
    later = torch.triu(history[:, :, None] == history[:, None, :], diagonal=1).any(dim=2)
    weight = weight.masked_fill((history == 0) | later, 0.0)
    unit = F.normalize(item_vecs.float(), dim=-1)
    cosine = unit[recommended] @ unit[history].transpose(1, 2)  # (B, k, W)
    contribution = cosine * weight[:, None, :]
    values, positions = contribution.topk(min(n, width), dim=2)
    drivers = history.gather(1, positions.flatten(1)).view_as(positions)
    keep = (values > 0) & (recommended[:, :, None] > 0)
    return torch.where(keep, drivers, 0)
