"""Padding-aware batching: drop the columns that are padding in every row of a batch.

Sequences are left-padded and every model positions them from the right (SASRec's and DynRec's
position embeddings count back from `max_len`, GRU4Rec packs the real items), so a batch whose
longest row holds w real items gives the same states at its real positions when cut to its last w
columns, for a fraction of the work: a short-session data set pads most of every window.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def trim_left_padding(items: Tensor, *aligned: Tensor, targets: Tensor | None = None) -> tuple[Tensor, ...]:
    """`items` and the tensors aligned with it, cut to the batch's longest real row.

    Args:
        items: (B, L) long, left-padded with 0.
        aligned: more (B, L, ...) tensors cut the same way (times, targets).
        targets: optional (B, L) long whose non-zero columns must be kept too.

    Returns:
        (items, *aligned) cut to (B, w, ...), w >= 1.
    """
    width = real_width(items, targets)
    if width == items.shape[1]:
        return (items, *aligned)
    return tuple(t[:, -width:] for t in (items, *aligned))


def real_width(items: Tensor, targets: Tensor | None = None) -> int:
    """Columns from the batch's first one holding a real item (or target) in some row to the end, >= 1.

    items, targets: (B, L) long, left-padded with 0."""
    real = items > 0 if targets is None else (items > 0) | (targets > 0)
    used = real.any(0)  # (L,) columns holding a real item in some row
    return items.shape[1] - int(used.int().argmax()) if bool(used.any()) else 1  # CPU-GPU sync point


def in_row_tiles(encode: Callable[[Tensor, Tensor], Tensor], items: Tensor, times: Tensor, tokens: int) -> Tensor:
    """encode(items, times) -> (B, ...) run on row tiles of at most `tokens` cells, each cut to its own padding.

    Same rows as one call. With rows sorted by length (the evaluator sorts them), each tile carries
    less padding than the whole batch, and a tile's activations stay in the CPU's cache.
    """
    rows = max(1, tokens // max(items.shape[1], 1))
    if rows >= items.shape[0]:
        return encode(items, times)
    return torch.cat([encode(*trim_left_padding(items[s : s + rows], times[s : s + rows])) for s in range(0, items.shape[0], rows)])
