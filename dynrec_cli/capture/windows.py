"""Interest vectors from item windows: the one computation both capture paths and replay share.

A user's state is the window of their latest `max_len` events. DynRec and SASRec use
right-aligned positions, so a new event shifts every position of the window: cached keys and
values cannot be reused, and each update re-encodes one window (bounded: O(max_len) items, one
forward of `layers` blocks), never the whole history.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from dynrec_cli.data.sequences import UserSequences, prefix_windows, ragged_arange


@torch.inference_mode()
def encode_windows(model: nn.Module, table: Tensor, items: Tensor, times: Tensor, batch: int = 4096) -> Tensor:
    """User vectors of left-padded windows, reading item vectors from `table` (no adapter call).

    Args:
        model: a trained model; text models use their `window_vectors(items, times, table)`.
        table: (n_items' + 1, d) item vectors (the store's, new items included).
        items, times: (B, L) long windows on the table's device.
        batch: rows per forward pass.

    Returns:
        (B, d) float user vectors.
    """
    encode = getattr(model, "window_vectors", None)
    parts = []
    for start in range(0, items.shape[0], batch):
        rows, stamps = items[start : start + batch], times[start : start + batch]
        out = encode(rows, stamps, table) if encode is not None else model.user_vectors(rows, stamps)
        parts.append(out.float())
    return torch.cat(parts) if parts else torch.zeros(0, table.shape[1], device=table.device)


def chunk_windows(
    window_items: np.ndarray, window_times: np.ndarray, users: np.ndarray, items: np.ndarray, times: np.ndarray
) -> tuple[Tensor, Tensor]:
    """The window of every event of a chunk just after it is applied, all at once.

    Each touched user's sequence is their stored window followed by their chunk events; the
    window after event j is the last `max_len` items of that sequence up to j (one gather).

    Args:
        window_items, window_times: (n_touched, L) stored windows, left-padded (0 = padding).
        users: (n,) row of each event's user in those windows; events in time order.
        items, times: (n,) the events.

    Returns:
        items, times: (n, L) windows, row j = the user's state after event j.
    """
    n_touched, length = window_items.shape
    real = window_items > 0
    stored = real.sum(1)
    lengths = stored + np.bincount(users, minlength=n_touched)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    seq_items, seq_times = np.zeros(indptr[-1], np.int64), np.zeros(indptr[-1], np.int64)
    owner = np.repeat(np.arange(n_touched), stored)
    # left padding: the real items of a row are its last `stored` columns, row-major = time order
    seq_items[indptr[owner] + ragged_arange(stored)] = window_items[real]
    seq_times[indptr[owner] + ragged_arange(stored)] = window_times[real]
    order = np.argsort(users, kind="stable")  # per user, keeps time order
    counts = np.bincount(users, minlength=n_touched)
    position = np.empty(len(users), np.int64)
    position[order] = indptr[users[order]] + stored[users[order]] + ragged_arange(counts)
    seq_items[position], seq_times[position] = items, times
    return prefix_windows(UserSequences(indptr, seq_items, seq_times), users, position + 1, length)
