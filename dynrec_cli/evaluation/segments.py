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
    """`{prefix}/{segment}/{metric}` means and `{prefix}/{segment}/users` counts."""
    out: dict[str, float] = {}
    for segment, mask in segments.items():
        out[f"{prefix}/{segment}/users"] = float(mask.sum())
        for name, values in per_user.items():
            out[f"{prefix}/{segment}/{name}"] = float(values[mask].mean()) if mask.any() else 0.0
    return out
