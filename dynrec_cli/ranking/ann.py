"""Approximate top-K through faiss (inner product), with seen items filtered out.

faiss cannot take a different exclusion list per query in one batched search, so a chunk of
users asks for `n + (most items any of them has seen)` neighbours and drops the seen ones:
every user still gets n items when the index holds that many. Items that nobody may get
(business filters) are simply not put into the index.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from dynrec_cli.errors import ConfigError
from dynrec_cli.ranking.topk import exact_topk

KINDS = ("ivf", "hnsw", "flat")


def import_faiss() -> Any:
    """The faiss module, or a ConfigError saying how to install it."""
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # its CPU-feature probing is noise
    try:
        import faiss
    except ImportError:
        raise ConfigError("rank.index=faiss: faiss is not installed (pip install dynrec[ann], or rank.index=exact)") from None
    return faiss


@dataclass
class FaissIndex:
    """A faiss index over some item rows; `ids[p]` is the item index stored at position p."""

    index: Any
    ids: np.ndarray

    def search(self, queries: Tensor, n: int) -> tuple[Tensor, Tensor]:
        """Raw faiss search. Returns scores (B, n') and item indices (B, n'), n' = min(n, size); -inf/0 = no hit."""
        n = min(n, len(self.ids))
        if n == 0:
            return torch.zeros(len(queries), 0), torch.zeros(len(queries), 0, dtype=torch.long)
        scores, positions = self.index.search(np.ascontiguousarray(queries.float().numpy()), n)
        found = positions >= 0
        items = np.where(found, self.ids[np.maximum(positions, 0)], 0)
        return torch.from_numpy(np.where(found, scores, -np.inf)).float(), torch.from_numpy(items).long()

    def top(self, user_vecs: Tensor, n: int, exclude: tuple[Tensor, Tensor] | None) -> tuple[Tensor, Tensor]:
        """Top-n items per user by approximate inner product, never an excluded (row, item) pair.

        Args:
            user_vecs: (B, d). exclude: (rows, items) pairs as in `topk_for_users`.

        Returns:
            scores (B, n) and item indices (B, n), best first; -inf marks an empty slot.
        """
        extra = int(torch.bincount(exclude[0], minlength=len(user_vecs)).max()) if exclude is not None and len(exclude[0]) else 0
        scores, items = self.search(user_vecs, n + extra)
        if extra:
            width = int(self.ids.max()) + 1
            seen = exclude[0].numpy() * width + exclude[1].numpy()
            keys = np.arange(len(items))[:, None] * width + items.numpy()
            scores = scores.masked_fill(torch.from_numpy(np.isin(keys, seen)), -torch.inf)
        keep = exact_topk(scores, n)  # faiss already sorts; this drops the excluded, keeping the order
        scores, items = scores.gather(1, keep), items.gather(1, keep)
        if scores.shape[1] < n:  # a catalogue smaller than n: pad with empty slots
            pad = n - scores.shape[1]
            scores = torch.cat([scores, torch.full((len(scores), pad), -torch.inf)], dim=1)
            items = torch.cat([items, torch.zeros(len(items), pad, dtype=torch.long)], dim=1)
        return scores, torch.where(torch.isfinite(scores), items, 0)


def build_index(item_vecs: Tensor, allowed: Tensor | None, kind: str, nlist: int | None, nprobe: int,
                hnsw_m: int, ef_search: int) -> FaissIndex:
    """An inner-product faiss index over the rankable items (rows 1.. of `item_vecs`, those `allowed`).

    Args:
        item_vecs: (n_items + 1, d); row 0 is padding and never indexed.
        allowed: (n_items + 1,) bool or None (every item).
        kind: "ivf" (k-means cells, scans `nprobe` of `nlist`), "hnsw" (graph, `hnsw_m` links,
            `ef_search` breadth) or "flat" (exact, for checks).
        nlist: IVF cells; None = 4·√n, at most n/39 (faiss wants 39 training points per cell).
    """
    faiss = import_faiss()
    if kind not in KINDS:
        raise ConfigError(f"rank.faiss.kind={kind}: choose one of {', '.join(KINDS)}")
    mask = torch.ones(len(item_vecs), dtype=torch.bool) if allowed is None else allowed.clone()
    mask[0] = False
    ids = torch.nonzero(mask).flatten().numpy()
    vectors = np.ascontiguousarray(item_vecs[ids].float().numpy())
    dim = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, int(hnsw_m), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = int(ef_search)
    else:
        cells = int(nlist) if nlist else max(1, min(round(4 * math.sqrt(len(ids))), len(ids) // 39))
        if cells > len(ids):
            raise ConfigError(f"rank.faiss.nlist={nlist}: more cells than the {len(ids)} indexed items")
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, cells, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = min(int(nprobe), cells)
    index.add(vectors)
    return FaissIndex(index, ids)
