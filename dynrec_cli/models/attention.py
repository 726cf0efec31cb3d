"""A pre-norm causal transformer block over left-padded sequences (PyTorch's fused attention)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def causal_mask(items: Tensor) -> Tensor:
    """(B, 1, L, L) bool, True = may attend: earlier-or-same real positions, and itself.

    Padding queries attend only to themselves, which keeps their rows finite (no NaN).
    """
    length = items.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=items.device).tril()
    real_key = (items > 0)[:, None, None, :]
    eye = torch.eye(length, dtype=torch.bool, device=items.device)
    return (causal & real_key) | eye


class CausalBlock(nn.Module):
    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
        self.heads, self.dropout = heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ffn = nn.Sequential(nn.Linear(hidden, 4 * hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(4 * hidden, hidden))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor, last_only: bool = False) -> Tensor:
        """x: (B, L, d), mask: (B, 1, L, L) -> (B, L, d), or (B, 1, d) for the last position only.

        last_only: scoring needs the newest position alone; its query still reads every key and
        value, and the output projection and feed-forward then run on one row instead of L.
        """
        batch, length, hidden = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        if last_only:
            x, q, mask = x[:, -1:], q[:, :, -1:], mask[:, :, -1:]
        attended = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        x = x + self.drop(self.out(attended.transpose(1, 2).reshape(batch, x.shape[1], hidden)))
        return x + self.drop(self.ffn(self.norm2(x)))
