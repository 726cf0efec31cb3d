"""ZeroShot: cosine ranking on frozen text embeddings, no training — the floor of what the LM gives.

item = text / |text|; user = the decay-weighted mean of the history's normalised item texts
(the newest item weighs 1, the one before `decay`, ...), normalised. A model that learns from
interactions must beat this.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dynrec_cli.errors import ConfigError


class ZeroShot(nn.Module):
    trainable = False
    uses_text = True

    def __init__(self, n_items: int, text_dim: int, max_len: int = 50, decay: float = 0.9) -> None:
        super().__init__()
        if not 0.0 < decay <= 1.0:
            raise ConfigError(f"model.decay={decay}: must be in (0, 1]")
        self.n_items, self.text_dim, self.max_len, self.decay = n_items, text_dim, max_len, decay
        self.register_buffer("text_table", torch.zeros(n_items + 1, text_dim))

    def set_text_table(self, table: Tensor) -> None:
        """table: (n_items + 1, text_dim) float; row 0 is forced to zeros (padding)."""
        if tuple(table.shape) != tuple(self.text_table.shape):
            raise ConfigError(f"text table of shape {tuple(table.shape)}: model needs {tuple(self.text_table.shape)}")
        with torch.no_grad():
            self.text_table.copy_(table.to(self.text_table))
            self.text_table[0].zero_()

    def fit(self, train_items: Tensor) -> None:
        """Nothing to learn: the text table is the whole model."""

    def item_vectors(self) -> Tensor:
        """(n_items + 1, text_dim), unit rows; row 0 stays zero."""
        return F.normalize(self.text_table, dim=-1)

    def user_vectors(self, items: Tensor, times: Tensor) -> Tensor:
        """items: (B, L) left-padded -> (B, text_dim) unit vectors (zero for an empty history)."""
        return self.window_vectors(items, times, self.item_vectors())

    def window_vectors(self, items: Tensor, times: Tensor, table: Tensor) -> Tensor:
        """user_vectors over a given (n_items' + 1, text_dim) unit item table (with added items)."""
        length = items.shape[1]
        age = torch.arange(length - 1, -1, -1, device=items.device, dtype=torch.float)  # last position: age 0
        weights = (self.decay**age)[None] * (items > 0)  # (B, L), padding excluded
        pooled = (weights.unsqueeze(-1) * table[items]).sum(1)
        return F.normalize(pooled, dim=-1)

    def text_item_vectors(self, text: Tensor) -> Tensor:
        """Item vectors of new items from their text embeddings: (n, text_dim) -> (n, text_dim) unit rows."""
        return F.normalize(text, dim=-1)
