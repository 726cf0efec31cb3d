"""Segments of the evaluated users: cold vs warm targets, short vs long histories."""

from __future__ import annotations

import numpy as np

from dynrec_cli.data.sequences import UserSequences

SHORT_HISTORY = 5  # events; "short" = at most this many


def user_segments(users: np.ndarray, history: UserSequences, targets: UserSequences, train_items: np.ndarray, n_items: int) -> dict[str, np.ndarray]:
    """Boolean masks over `users` for each segment.

    cold: every target item has no training event (never seen in training); warm: none has;
    users whose targets mix both are in neither. short/long: history of ≤ 5 / > 5 events.
    """
    seen = np.zeros(n_items + 1, dtype=bool)
    seen[train_items] = True
    lengths = targets.lengths()[users]
    starts = targets.indptr[users]
    owner = np.repeat(np.arange(len(users)), lengths)
    flat = targets.items[np.repeat(starts, lengths) + np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)]
    cold_targets = np.bincount(owner, weights=~seen[flat], minlength=len(users))
    history_lengths = history.lengths()[users]
    return {
        "cold": cold_targets == lengths,
        "warm": cold_targets == 0,
        "short": history_lengths <= SHORT_HISTORY,
        "long": history_lengths > SHORT_HISTORY,
    }


def segment_summary(prefix: str, per_user: dict[str, np.ndarray], segments: dict[str, np.ndarray]) -> dict[str, float]:
    """`{prefix}/{segment}/{metric}` means and `{prefix}/{segment}/users` counts.

    A segment without users has its count (0) and no metric keys: a mean over nobody is not 0."""
    out: dict[str, float] = {}
    for segment, mask in segments.items():
        out[f"{prefix}/{segment}/users"] = float(mask.sum())
        if mask.any():
            out.update({f"{prefix}/{segment}/{name}": float(values[mask].mean()) for name, values in per_user.items()})
    return out


ACTIVITY_LABELS = ("light", "medium", "heavy")


def quantile_buckets(values: np.ndarray, n: int) -> np.ndarray:
    """Bucket 0..n-1 of each value by its rank: n equal-sized buckets, lowest values first.

    Ranks, not value cut-offs: with many equal values (e.g. histories truncated to the same
    length) cut-offs would leave buckets empty; equal values are ordered by position (stable).
    """
    order = np.argsort(values, kind="stable")
    bucket = np.empty(len(values), dtype=np.int64)
    bucket[order] = np.arange(len(values)) * n // max(len(values), 1)
    return bucket


def activity_segments(users: np.ndarray, history: UserSequences, buckets: int) -> dict[str, np.ndarray]:
    """User activity buckets by history-length rank: light / medium / heavy (or activity1..N)."""
    if buckets < 2:
        return {}
    bucket = quantile_buckets(history.lengths()[users], buckets)
    labels = ACTIVITY_LABELS if buckets == len(ACTIVITY_LABELS) else [f"activity{i + 1}" for i in range(buckets)]
    return {label: bucket == i for i, label in enumerate(labels)}


def period_segments(users: np.ndarray, targets: UserSequences, periods: int) -> dict[str, np.ndarray]:
    """Time periods by rank of each user's first target event time: period1 (earliest) .. periodN."""
    if periods < 2:
        return {}
    bucket = quantile_buckets(targets.times[targets.indptr[users]], periods)
    return {f"period{i + 1}": bucket == i for i in range(periods)}
