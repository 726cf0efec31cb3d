"""A pre-norm causal transformer block over left-padded sequences (PyTorch's fused attention)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dynrec_cli.models import cpu_fused
from dynrec_cli.models.dropout import BatchDropout


def causal_mask(items: Tensor) -> Tensor | None:
    """(B, 1, L, L) float to add to the attention logits: 0 = may attend (earlier-or-same real
    positions, and itself), -inf = may not.

    Padding queries attend only to themselves, which keeps their rows finite (no NaN). Additive, so
    SDPA does not convert it again in every layer. None when no row holds padding: the attention is
    then plain causal (a CPU-GPU sync point, like trimming the padding).
    """
    padding = items == 0
    if not bool(padding.any()):
        return None
    length = items.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=items.device).tril()
    eye = torch.eye(length, dtype=torch.bool, device=items.device)
    allowed = (causal & ~padding[:, None, None, :]) | eye
    return torch.zeros(allowed.shape, device=items.device).masked_fill_(~allowed, float("-inf"))


class CausalBlock(nn.Module):
    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
        self.heads, self.dropout = heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ffn = nn.Sequential(nn.Linear(hidden, 4 * hidden), nn.GELU(), BatchDropout(dropout), nn.Linear(4 * hidden, hidden))
        self.drop = BatchDropout(dropout)
        self.attn_drop = BatchDropout(dropout, seq_dims=(2, 3))  # on the (B, heads, L, L) attention weights

    def forward(self, x: Tensor, mask: Tensor | None, last_only: bool = False) -> Tensor:
        """x: (B, L, d), mask: causal_mask's, or None (no padding) -> (B, L, d), or (B, 1, d) for the last position only.

        last_only: scoring needs the newest position alone; its query still reads every key and
        value, and the query, output projection and feed-forward then run on one row instead of L.
        """
        batch, length, hidden = x.shape
        normed = self.norm1(x)
        weight, bias = self.qkv.weight, self.qkv.bias
        if last_only:
            q = cpu_fused.linear(normed[:, -1:], weight[:hidden], bias[:hidden]).view(batch, 1, self.heads, -1).transpose(1, 2)
            k, v = cpu_fused.linear(normed, weight[hidden:], bias[hidden:]).view(batch, length, 2, self.heads, -1).permute(2, 0, 3, 1, 4)
            x, mask = x[:, -1:], None if mask is None else mask[:, :, -1:]
        else:
            q, k, v = cpu_fused.linear(normed, weight, bias).view(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        if self.training and self.dropout > 0:
            attended = self._attend_with_dropout(q, k, v, mask)
        else:
            attended = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None if mask is None else mask.to(q.dtype),
                is_causal=mask is None and not last_only,  # the newest query reads every key: no mask at all
            )
        attended = attended.transpose(1, 2).reshape(batch, x.shape[1], hidden)
        if self.training:
            x = x + self.drop(self.out(attended))
            return x + self.drop(self.ffn(self.norm2(x)))
        # no dropout outside training: the same sums, with bias, GELU and residual inside the products on a CPU
        first, second = self.ffn[0], self.ffn[3]
        x = cpu_fused.linear_add(attended, x, self.out.weight, self.out.bias)
        return cpu_fused.linear_add(cpu_fused.linear(self.norm2(x), first.weight, first.bias, gelu=True), x, second.weight, second.bias)

    def _attend_with_dropout(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> Tensor:
        """SDPA's math path, with the attention dropout drawn by BatchDropout: the same masks as
        torch's CPU attention in one process, and as one process under torchrun (models/dropout.py).
        q, k, v: (B, heads, L, d) -> (B, heads, L, d). Memory: the (B, heads, L, L) weights, as on CPU."""
        scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
        if mask is None:  # no padding: plain causal
            length = q.shape[-2]
            causal = torch.ones(length, length, dtype=torch.bool, device=q.device).triu(1)
            scores = scores.masked_fill(causal, float("-inf"))
        else:
            scores = scores + mask.to(scores.dtype)
        return self.attn_drop(scores.softmax(-1)) @ v
