"""Full-catalogue top-K for users in chunks: memory ~ user_chunk × item_chunk scores."""

from __future__ import annotations

import torch
from torch import Tensor

from dynrec_cli.ranking.topk import chunked_topk


@torch.inference_mode()
def topk_for_users(
    user_vecs: Tensor,
    item_vecs: Tensor,
    k: int,
    item_chunk: int,
    exclude: tuple[Tensor, Tensor] | None = None,
    allowed: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Top-K items (1..n_items) per user by dot product, never the padding row 0.

    Args:
        user_vecs: (B, d) user interests.
        item_vecs: (n_items + 1, d) item table; row 0 is padding.
        k: list length.
        item_chunk: items scored at once; the result does not depend on it.
        exclude: (rows, items) pairs: item `items[j]` is not recommended to user `rows[j]`.
        allowed: (n_items + 1,) bool; items marked False are recommended to nobody.

    Returns:
        values (B, k) and item indices (B, k), best first, ties broken by lower index. A user
        with fewer than k items left after `exclude` and `allowed` gets a short list: the
        slots past it hold value -inf and item 0 (padding, never an item), which every metric
        and the rank table leave out.
    """
    n_items = item_vecs.shape[0]
    rows, items = exclude if exclude is not None else (None, None)

    def scores(start: int, end: int) -> Tensor:
        block = user_vecs @ item_vecs[start:end].T  # (B, end - start)
        if start == 0:
            block[:, 0] = float("-inf")
        if allowed is not None:
            block.masked_fill_(~allowed[start:end], float("-inf"))
        if rows is not None and start == 0 and end == n_items:  # one chunk: every pair falls inside
            block[rows, items] = float("-inf")
        elif rows is not None:
            inside = (items >= start) & (items < end)
            block[rows[inside], items[inside] - start] = float("-inf")
        return block

    values, indices = chunked_topk(scores, user_vecs.shape[0], n_items, min(k, n_items - 1), item_chunk)
    # -inf is only ever a masked item (padding, excluded, filtered): an empty slot, not an item
    return values, indices.masked_fill_(values == float("-inf"), 0)
