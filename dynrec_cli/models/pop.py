"""Popularity: every user gets the items most consumed in training. No training loop.

Fits the shared scoring interface with 1-d vectors: user = [1], item = [count].
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Popularity(nn.Module):
    trainable = False

    def __init__(self, n_items: int) -> None:
        super().__init__()
        self.n_items = n_items
        self.register_buffer("counts", torch.zeros(n_items + 1))

    def fit(self, train_items: Tensor) -> None:
        """Count each item's training events. train_items: (n_events,) long."""
        self.counts = torch.bincount(train_items, minlength=self.n_items + 1).float()

    def item_vectors(self) -> Tensor:
        return self.counts[:, None]

    def user_vectors(self, items: Tensor, times: Tensor) -> Tensor:
        return torch.ones(items.shape[0], 1, device=self.counts.device)
