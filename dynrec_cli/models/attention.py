"""A pre-norm causal transformer block over left-padded sequences (PyTorch's fused attention)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def causal_mask(items: Tensor) -> Tensor | None:
    """(B, 1, L, L) bool, True = may attend: earlier-or-same real positions, and itself.

    Padding queries attend only to themselves, which keeps their rows finite (no NaN). None when no
    row holds padding: the attention is then plain causal, and SDPA's causal path skips the masked
    half instead of reading a mask (a CPU-GPU sync point, like trimming the padding).
    """
    padding = items == 0
    if not bool(padding.any()):
        return None
    length = items.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=items.device).tril()
    eye = torch.eye(length, dtype=torch.bool, device=items.device)
    return (causal & ~padding[:, None, None, :]) | eye


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

    def forward(self, x: Tensor, mask: Tensor | None, last_only: bool = False) -> Tensor:
        """x: (B, L, d), mask: (B, 1, L, L) or None (no padding) -> (B, L, d), or (B, 1, d) for the last position only.

        last_only: scoring needs the newest position alone; its query still reads every key and
        value, and the query, output projection and feed-forward then run on one row instead of L.
        """
        batch, length, hidden = x.shape
        normed = self.norm1(x)
        if last_only:
            weight, bias = self.qkv.weight, self.qkv.bias
            q = F.linear(normed[:, -1:], weight[:hidden], bias[:hidden]).view(batch, 1, self.heads, -1).transpose(1, 2)
            k, v = F.linear(normed, weight[hidden:], bias[hidden:]).view(batch, length, 2, self.heads, -1).permute(2, 0, 3, 1, 4)
            x, mask = x[:, -1:], None if mask is None else mask[:, :, -1:]
        else:
            q, k, v = self.qkv(normed).view(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0,
            is_causal=mask is None and not last_only,  # the newest query reads every key: no mask at all
        )  # fmt: skip
        x = x + self.drop(self.out(attended.transpose(1, 2).reshape(batch, x.shape[1], hidden)))
        return x + self.drop(self.ffn(self.norm2(x)))
