"""Exact, deterministic top-K over scores, whole or scored chunk by chunk.

Order is always (score descending, position ascending): among equal scores the
lowest position (item index) wins. ``torch.topk`` promises no order among ties,
so its set is used only when it is the only possible one (no ties at the k-th
value beyond the places left); otherwise the selection is done with masks and a
cumulative sum. The final order comes from a stable sort.
NaN scores are not supported.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

ScoreFn = Callable[[int, int], Tensor]


def _topk_positions_ascending(scores: Tensor, k: int) -> Tensor:
    """Positions of the top ``k`` per row, returned in ascending position order.

    Args:
        scores: (batch, n) scores; ``k`` must satisfy ``1 <= k < n``.
        k: how many positions to keep per row.

    Returns:
        (batch, k) long positions, ascending within each row.
    """
    # Usual case: the (k+1)-th value is below the k-th in every row, so the top-k set is unique
    # and topk's indices only need sorting. One topk of k+1 decides it; counting ties over the
    # whole row (bool sums) would cost several times the scoring itself.
    top = scores.topk(k + 1, dim=1)
    kth = top.values[:, k - 1 : k]  # (batch, 1)
    clear = top.values[:, k] < kth[:, 0]  # (batch,) the top-k set is unique
    positions = top.indices[:, :k].sort(dim=1).values
    if bool(clear.all()):  # CPU-GPU sync point
        return positions
    # only the rows with a tie at the k-th value take the exact path: a rare float tie in one row
    # of a (512 users × 65,536 items) chunk must not build int64 cumulative sums over all of it
    tied_rows = (~clear).nonzero().squeeze(1)
    positions[tied_rows] = _positions_with_ties(scores[tied_rows], kth[tied_rows], k)
    return positions


def _positions_with_ties(scores: Tensor, kth: Tensor, k: int) -> Tensor:
    """The top-k positions, ascending, of rows whose k-th value is tied: among the scores equal to
    it, the lowest positions that fill k. scores: (rows, n), kth: (rows, 1) -> (rows, k)."""
    above = scores > kth
    tied = scores == kth
    need = k - above.sum(dim=1, keepdim=True)
    keep = above | (tied & (tied.cumsum(dim=1) <= need))  # exactly k True per row
    # Scatter each kept position into its slot; unkept ones go to a spare column k.
    # Avoids nonzero(), which would be a CPU-GPU sync point.
    slot = torch.where(keep, keep.cumsum(dim=1) - 1, k)
    positions = torch.arange(scores.shape[1], device=scores.device).expand_as(scores)
    out = torch.zeros(scores.shape[0], k + 1, dtype=torch.long, device=scores.device)
    out.scatter_(1, slot, positions)
    return out[:, :k]


def _order_by_score(scores: Tensor, positions: Tensor) -> Tensor:
    """Reorder ``positions`` (ascending per row) by score descending, ties kept ascending.

    Args:
        scores: (batch, n) scores.
        positions: (batch, k) long positions into ``scores``, ascending per row.

    Returns:
        (batch, k) long positions ordered by (score desc, position asc).
    """
    values = scores.gather(1, positions)
    # Stable ascending sort of the negated values keeps ascending positions among ties.
    order = torch.sort(-values, dim=1, stable=True).indices
    return positions.gather(1, order)


def exact_topk(scores: Tensor, k: int) -> Tensor:
    """Positions of the ``k`` largest scores per row, ties broken by lowest position.

    Args:
        scores: (batch, n) scores; ``-inf`` entries are allowed (picked only when a
            row has fewer than ``k`` finite scores).
        k: how many positions to return per row; ``k >= n`` returns all ``n``.

    Returns:
        (batch, min(k, n)) long positions ordered by (score desc, position asc).

    Raises:
        ValueError: if ``scores`` is not 2-D or ``k`` is negative.
    """
    if scores.dim() != 2:
        raise ValueError(f"scores must be (batch, n), got shape {tuple(scores.shape)}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    batch, n = scores.shape
    if k == 0 or n == 0:
        return torch.zeros(batch, 0, dtype=torch.long, device=scores.device)
    if k >= n:
        positions = torch.arange(n, device=scores.device).expand(batch, n).contiguous()
    else:
        positions = _topk_positions_ascending(scores, k)
    return _order_by_score(scores, positions)


def chunked_topk(
    score_fn: ScoreFn, n_rows: int, n_items: int, k: int, item_chunk: int
) -> tuple[Tensor, Tensor]:
    """Exact top-``k`` items per row, scoring the catalogue one item chunk at a time.

    Memory stays at (n_rows, item_chunk) whatever the catalogue size. The
    running best is kept in ascending item order, so concatenating it with the
    next (also ascending) chunk keeps "lowest position" equal to "lowest item
    index", and the result equals ``exact_topk`` on the full row for any
    ``item_chunk``.

    Args:
        score_fn: ``score_fn(start, end)`` returns (n_rows, end - start) scores for
            item columns ``[start, end)``.
        n_rows: number of rows (users) scored.
        n_items: catalogue size.
        k: items kept per row; ``k > n_items`` keeps all ``n_items``.
        item_chunk: items scored per call of ``score_fn``.

    Returns:
        values: (n_rows, min(k, n_items)) scores, ordered by (score desc, index asc).
        indices: (n_rows, min(k, n_items)) long item indices, same order.

    Raises:
        ValueError: on a non-positive ``item_chunk``, negative sizes, or a chunk
            of the wrong shape.
    """
    if item_chunk < 1 or k < 0 or n_rows < 0 or n_items < 0:
        raise ValueError(
            f"need item_chunk >= 1 and k, n_rows, n_items >= 0; got item_chunk={item_chunk}, "
            f"k={k}, n_rows={n_rows}, n_items={n_items}"
        )
    if k == 0 or n_items == 0:
        empty = torch.zeros(n_rows, 0)
        return empty, empty.long()
    best_values: Tensor | None = None
    best_indices: Tensor | None = None
    for start in range(0, n_items, item_chunk):
        end = min(start + item_chunk, n_items)
        chunk = score_fn(start, end)
        if tuple(chunk.shape) != (n_rows, end - start):
            raise ValueError(
                f"score_fn({start}, {end}) returned shape {tuple(chunk.shape)}, "
                f"expected {(n_rows, end - start)}"
            )
        # the chunk's own top-k first: a score outside it has k better (or tied, lower-index)
        # ones in the same chunk, so it cannot reach the overall top-k; merging then touches
        # 2k columns instead of k + item_chunk
        if end - start > k:
            keep = _topk_positions_ascending(chunk, k)
            values, indices = chunk.gather(1, keep), keep + start
        else:
            values, indices = chunk, torch.arange(start, end, device=chunk.device).expand(n_rows, -1)
        if best_values is not None and best_indices is not None:
            values = torch.cat([best_values, values.to(best_values.dtype)], dim=1)
            indices = torch.cat([best_indices, indices], dim=1)  # earlier chunks first: still ascending
            if values.shape[1] > k:
                keep = _topk_positions_ascending(values, k)
                values, indices = values.gather(1, keep), indices.gather(1, keep)
        best_values, best_indices = values, indices
    assert best_values is not None and best_indices is not None  # n_items >= 1
    order = torch.sort(-best_values, dim=1, stable=True).indices
    return best_values.gather(1, order), best_indices.gather(1, order)
