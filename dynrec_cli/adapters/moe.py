"""UniSRec's adaptor (Hou et al., KDD 2022): parametric whitening experts mixed by a softmax gate."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MoEAdapter(nn.Module):
    """out = sum_k gate_k(x) * (x - b_k) @ W_k, with gate = softmax(x @ W_gate).

    Each expert whitens the frozen text space its own way (b_k re-centres the anisotropic LM
    embeddings, W_k rotates and scales); the gate picks a mix per item. 8 experts beat 1 by
    ~5% on ML-1M (TedRec's ablation).

    Args:
        in_dim: text embedding size; out_dim: model hidden size.
        experts: number of whitening experts.
        dropout: applied to the input text embedding during training.
    """

    def __init__(self, in_dim: int, out_dim: int, experts: int = 8, dropout: float = 0.2) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(experts, in_dim))
        self.weight = nn.Parameter(torch.randn(experts, in_dim, out_dim) * in_dim**-0.5)
        # zero gate: every expert weighs the same at the start, as in UniSRec
        self.gate = nn.Parameter(torch.zeros(in_dim, experts))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, in_dim) -> (n, out_dim). Memory: n * experts * out_dim for the expert outputs."""
        gate = torch.softmax(x @ self.gate, dim=-1)  # (n, K)
        x = self.drop(x)
        # (x - b_k) @ W_k = x @ W_k - b_k @ W_k, without an (n, K, in_dim) copy of x
        experts = torch.einsum("nd,kdo->nko", x, self.weight) - torch.einsum("kd,kdo->ko", self.bias, self.weight)
        return (gate.unsqueeze(-1) * experts).sum(1)
