"""Projections from frozen text embeddings to the model's hidden space: (n, in_dim) -> (n, out_dim)."""

from __future__ import annotations

from torch import Tensor, nn


class LinearAdapter(nn.Module):
    """One affine map: the cheapest adapter, and the baseline the others must beat."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, in_dim) -> (n, out_dim)."""
        return self.proj(x)


class MLPAdapter(nn.Module):
    """Linear -> GELU -> dropout -> linear (LLM-ESR's d -> d/2 -> 64 text adapter is this shape)."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, out_dim))

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, in_dim) -> (n, out_dim)."""
        return self.net(x)
