"""User sequences in CSR form, and the padded tensors the models read.

Item index 0 is padding everywhere; sequences are left-padded so the latest event is last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch


@dataclass(frozen=True)
class UserSequences:
    """Each user's items (and times) in time order: user u owns items[indptr[u]:indptr[u+1]]."""

    indptr: np.ndarray  # (n_users + 1,) int64
    items: np.ndarray  # (n_events,) int64, 1..n_items
    times: np.ndarray  # (n_events,) int64

    @property
    def n_users(self) -> int:
        return len(self.indptr) - 1

    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)


def build_sequences(events: pd.DataFrame, n_users: int, splits: tuple[int, ...]) -> UserSequences:
    """Sequences of the events in `splits`; `events` is sorted by user, then time."""
    part = events[events["split"].isin(splits)]
    counts = np.bincount(part["user_idx"].to_numpy(), minlength=n_users)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return UserSequences(indptr, part["item_idx"].to_numpy(np.int64, copy=True), part["time"].to_numpy(np.int64, copy=True))


def last_window(seqs: UserSequences, users: np.ndarray, max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The latest `max_len` events of each user, left-padded.

    Returns:
        items: (len(users), max_len) long, 0 = padding; times: same shape.
    """
    ends = seqs.indptr[users + 1]
    starts = np.maximum(seqs.indptr[users], ends - max_len)
    return _gather(seqs, starts, ends, max_len)


def prefix_windows(seqs: UserSequences, users: np.ndarray, ends: np.ndarray, max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The latest `max_len` events of `users[i]` before CSR position `ends[i]` (exclusive), left-padded.

    One row per (user, end) pair: the state of a user at any moment of their sequence, in one
    gather (replay evaluation and batched capture read every event's prefix this way).

    Returns:
        items: (len(users), max_len) long, 0 = padding; times: same shape.
    """
    starts = np.maximum(seqs.indptr[users], ends - max_len)
    return _gather(seqs, starts, ends, max_len)


def ragged_arange(lengths: np.ndarray) -> np.ndarray:
    """0..n-1 for each length n, concatenated: [2, 3] -> [0, 1, 0, 1, 2]."""
    return np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def training_windows(seqs: UserSequences, max_len: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every user's sequence cut into windows of `max_len` next-item steps, newest window last.

    A window of inputs x[t-L..t-1] predicts targets x[t-L+1..t]: the loss is taken at every
    position, so one pass over the windows trains on every transition once.

    Returns:
        inputs: (n_windows, max_len) long, left-padded; targets: same shape (0 = no loss);
        times: (n_windows, max_len) of the inputs.
    """
    steps = np.maximum(seqs.lengths() - 1, 0)  # next-item transitions per user
    n_windows = -(-steps // max_len)  # ceil
    users = np.repeat(np.arange(seqs.n_users), n_windows)
    # window j (counted from the newest) of a user covers target positions (end-j*L-L, end-j*L]
    from_newest = np.arange(n_windows.sum()) - np.repeat(np.cumsum(n_windows) - n_windows, n_windows)
    target_ends = seqs.indptr[users + 1] - from_newest * max_len
    target_starts = np.maximum(seqs.indptr[users] + 1, target_ends - max_len)
    targets, _ = _gather(seqs, target_starts, target_ends, max_len)
    inputs, times = _gather(seqs, target_starts - 1, target_ends - 1, max_len)
    return inputs, targets, times


def _gather(seqs: UserSequences, starts: np.ndarray, ends: np.ndarray, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of seqs.items[starts:ends], right-aligned in (rows, width) tensors (0-padded)."""
    lengths = ends - starts
    column = np.arange(width)[None, :]
    source = ends[:, None] - width + column  # right-aligned source index
    valid = column >= (width - lengths)[:, None]
    source = np.where(valid, source, 0)
    items = np.where(valid, seqs.items[source] if len(seqs.items) else 0, 0)
    times = np.where(valid, seqs.times[source] if len(seqs.times) else 0, 0)
    return torch.from_numpy(items.astype(np.int64)), torch.from_numpy(times.astype(np.int64))


def csr_rows(seqs: UserSequences, users: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, item) pairs of the given users' events, row = position in `users`."""
    lengths = seqs.lengths()[users]
    rows = np.repeat(np.arange(len(users)), lengths)
    starts = np.repeat(seqs.indptr[users], lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return torch.from_numpy(rows), torch.from_numpy(seqs.items[starts + offsets])


def padded_targets(seqs: UserSequences, users: np.ndarray) -> torch.Tensor:
    """(len(users), max targets) long with -1 padding, for the metric functions."""
    lengths = seqs.lengths()[users]
    width = max(int(lengths.max(initial=0)), 1)
    rows, items = csr_rows(seqs, users)
    cols = torch.from_numpy(np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    out = torch.full((len(users), width), -1, dtype=torch.long)
    out[rows, cols] = items
    return out


@dataclass(frozen=True)
class SplitViews:
    """The sequences each use needs: training reads `train`; validation ranks `valid` targets
    from `train`; the test ranks `test` targets from `train_valid`."""

    train: UserSequences
    valid: UserSequences
    test: UserSequences
    train_valid: UserSequences
    everything: UserSequences


def split_views(events: pd.DataFrame, n_users: int) -> SplitViews:
    from dynrec_cli.data.types import TEST, TRAIN, VALID

    train = build_sequences(events, n_users, (TRAIN,))
    valid = build_sequences(events, n_users, (VALID,))
    return SplitViews(
        train=train,
        valid=valid,
        test=build_sequences(events, n_users, (TEST,)),
        train_valid=build_sequences(events, n_users, (TRAIN, VALID)),
        everything=build_sequences(events, n_users, (TRAIN, VALID, TEST)),
    )
