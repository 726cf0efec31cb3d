"""Summary statistics of a prepared dataset, for the manifest and the `prepare` report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dynrec_cli.data.types import TEST, TRAIN, VALID

_SPLIT_NAMES = {TRAIN: "train", VALID: "valid", TEST: "test"}


def dataset_statistics(events: pd.DataFrame, n_users: int, n_items: int) -> dict[str, Any]:
    """Describe a prepared event table.

    Args:
        events: columns `user_idx` (0..n_users-1), `item_idx` (1..n_items) and `split`.
        n_users: number of users in the user table.
        n_items: number of items in the item table.

    Returns:
        Plain JSON-ready values: `users`, `items`, `events`, `density` (events per
        user-item pair), `events_per_split` (train/valid/test), `sequence_length` (min, p25,
        median, p75, p90, max and mean of events per user, all splits), `cold_test_targets`
        (test events whose item has no TRAIN event) and `users_without_train`.
    """
    user_idx = events["user_idx"].to_numpy()
    item_idx = events["item_idx"].to_numpy()
    split = events["split"].to_numpy()
    counts = np.bincount(split.astype(np.int64), minlength=3)
    train = split == TRAIN
    train_items = np.zeros(n_items + 1, dtype=bool)
    train_items[item_idx[train]] = True
    trained_users = np.zeros(n_users, dtype=bool)
    trained_users[user_idx[train]] = True
    return {
        "users": int(n_users),
        "items": int(n_items),
        "events": int(len(events)),
        "density": float(len(events) / (n_users * n_items)) if n_users and n_items else 0.0,
        "events_per_split": {name: int(counts[code]) for code, name in _SPLIT_NAMES.items()},
        "sequence_length": _length_summary(np.bincount(user_idx, minlength=n_users)),
        "cold_test_targets": int((~train_items[item_idx[split == TEST]]).sum()),
        "users_without_train": int((~trained_users).sum()),
    }


def _length_summary(lengths: np.ndarray) -> dict[str, float]:
    if len(lengths) == 0:
        return {key: 0.0 for key in ("min", "p25", "median", "p75", "p90", "max", "mean")}
    p25, median, p75, p90 = np.quantile(lengths, [0.25, 0.5, 0.75, 0.9])
    return {
        "min": int(lengths.min()),
        "p25": float(p25),
        "median": float(median),
        "p75": float(p75),
        "p90": float(p90),
        "max": int(lengths.max()),
        "mean": float(lengths.mean()),
    }
