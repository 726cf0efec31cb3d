"""Per-item facts from the prepared log and catalogue that the re-ranking strategies read.

Every function returns a tensor over item indices 0..n_items (row 0 is padding), so a strategy
looks an item's value up with one gather across a whole batch of users.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from dynrec_cli.data.clock import NS_PER_DAY
from dynrec_cli.errors import ConfigError

log = logging.getLogger(__name__)


def popularity(events: pd.DataFrame, n_items: int) -> Tensor:
    """log(1 + count) of each item's events in the log, scaled to [0, 1].

    Returns:
        (n_items + 1,) float; 1.0 for the most frequent item, 0.0 for padding.
    """
    counts = np.bincount(events["item_idx"].to_numpy(), minlength=n_items + 1).astype(np.float64)
    counts[0] = 0.0
    logged = np.log1p(counts)
    return torch.from_numpy(logged / max(logged.max(), 1e-12)).float()


def freshness(events: pd.DataFrame, n_items: int, by: str, half_life_days: float) -> Tensor:
    """0.5 ** (age / half-life) of each item, age = days from its first or last event to the log's end.

    Args:
        events: prepared events with real timestamps in `time` (int64 nanoseconds).
        by: "first" (new to the log) or "last" (still being consumed).
        half_life_days: age at which the value halves.

    Returns:
        (n_items + 1,) float in (0, 1]; 0.0 for padding and for items without events.
    """
    if by not in ("first", "last"):
        raise ConfigError(f"rank.freshness.by={by}: choose first or last")
    if half_life_days <= 0:
        raise ConfigError(f"rank.freshness.half_life_days={half_life_days}: must be > 0")
    times = events.groupby("item_idx")["time"].agg("min" if by == "first" else "max")
    age_days = (events["time"].max() - times.to_numpy()) / NS_PER_DAY  # the age exact in integers, then days
    out = np.zeros(n_items + 1)
    out[times.index.to_numpy()] = np.power(0.5, age_days / half_life_days)
    return torch.from_numpy(out).float()


def allowed_items(
    items: pd.DataFrame, exclude_categories: Sequence[str], column: str, separator: str,
    allow_items: Sequence[str] | None,
) -> Tensor:
    """Which items may be recommended: not in an excluded category, and on the allow-list if one is given.

    Args:
        items: the prepared catalogue (`item_idx` 1..n, `item_id`, catalogue columns).
        exclude_categories: categories whose items are never recommended.
        column: catalogue column holding an item's categories, `separator`-joined ("" = one
            category per item); each category is compared with surrounding spaces stripped.
        allow_items: original item ids; None = every item.

    Returns:
        (n_items + 1,) bool; row 0 (padding) is False.
    """
    keep = np.ones(len(items), dtype=bool)
    if exclude_categories:
        if column not in items.columns:
            usable = ", ".join(c for c in items.columns if c not in ("item_idx", "text", "cold"))
            raise ConfigError(f"rank.filter.category_column={column}: not a catalogue column (the catalogue has {usable})")
        values = items[column].fillna("").astype(str)
        tags = (values.str.split(separator, regex=False).explode() if separator else values).str.strip()
        wanted = [str(c).strip() for c in exclude_categories]
        hit = tags.isin(wanted)
        unmatched = [c for c in wanted if c not in set(tags)]
        if unmatched:
            log.warning("rank.filter.exclude_categories: no item has %s in column '%s' (categories split on %r); "
                        "check the spelling, or rank.filter.separator", ", ".join(unmatched), column, separator)
        keep &= ~hit.groupby(level=0).any().reindex(items.index, fill_value=False).to_numpy()
    if allow_items is not None:
        wanted = pd.Index([str(i) for i in allow_items])
        known = pd.Index(items["item_id"].astype(str))
        unknown = wanted[~wanted.isin(known)]
        if len(unknown):
            raise ConfigError(f"rank.filter.allow_items: unknown item id(s) {', '.join(unknown[:5])} (not in the prepared catalogue)")
        keep &= known.isin(wanted)
    return torch.from_numpy(np.concatenate([[False], keep]))
