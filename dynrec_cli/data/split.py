"""Train/valid/test splits as int8 codes aligned row for row with the sorted events.

Codes are `TRAIN`, `VALID`, `TEST` from `dynrec_cli.data.types`. Every function expects events
sorted by `sort_events` (user, then time, then file order) with a 0..n-1 index.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd

from dynrec_cli.data.clock import from_seconds, iso
from dynrec_cli.data.types import ITEM, TEST, TIME, TRAIN, USER, VALID
from dynrec_cli.errors import ConfigError


def leave_one_out(events: pd.DataFrame, user_col: str = USER) -> np.ndarray:
    """Hold out each user's last event for test and the one before it for validation.

    Users with fewer than 3 events keep everything in TRAIN: they could not both train and be
    evaluated.

    Args:
        events: sorted events.
        user_col: the column identifying users (`user` or `user_idx`).

    Returns:
        (n_events,) int8 split codes.
    """
    groups = events.groupby(user_col, sort=False)
    from_end = groups.cumcount(ascending=False).to_numpy()
    length = groups[user_col].transform("size").to_numpy()
    split = np.full(len(events), TRAIN, dtype=np.int8)
    long_enough = length >= 3
    split[long_enough & (from_end == 1)] = VALID
    split[long_enough & (from_end == 0)] = TEST
    return split


def resolve_cutoff(times: np.ndarray, value: float | int, name: str) -> int:
    """Turn a split setting into an instant, exactly.

    Args:
        times: (n_events,) int64 event times (nanoseconds).
        value: a fraction in (0, 1), read as the time quantile of all events (linear
            interpolation, as numpy's default), or an absolute unix timestamp in seconds (> 1).
        name: the config key, for the message.

    Returns:
        The cut-off in int64 nanoseconds, rounded up: events at or after it fall on the later
        side, exactly as they are at or after the quantile or the timestamp itself.
    """
    if isinstance(value, bool) or not (0 < value < 1 or value > 1):
        raise ConfigError(
            f"{name} must be a fraction in (0, 1) or a unix timestamp > 1, got {value!r}"
        )
    if value > 1:
        return from_seconds(value)
    if len(times) == 0:
        raise ConfigError(f"{name}: cannot take a time quantile of an empty event log")
    # in integers and exact fractions: a float64 quantile of nanoseconds near 1.6e18 would be
    # off by up to 256 ns, and put events a few hundred nanoseconds apart on the wrong side
    position = Fraction(value) * (len(times) - 1)
    low = math.floor(position)
    high = min(low + 1, len(times) - 1)
    ordered = np.partition(np.asarray(times, dtype=np.int64), [low, high])
    below, above = int(ordered[low]), int(ordered[high])
    return math.ceil(below + (position - low) * (above - below))


def temporal_split(events: pd.DataFrame, valid: float | int, test: float | int) -> np.ndarray:
    """Split on global time cut-offs: TRAIN < valid cut-off <= VALID < test cut-off <= TEST.

    The same instant separates train from test for every user, so no training event comes
    after a test event. A user whose events all fall after the valid cut-off has no TRAIN event
    and cannot be evaluated; the caller reports how many (`users_without_train`).

    Args:
        events: sorted events with a `time` column.
        valid: valid cut-off, a fraction (time quantile) or a unix timestamp in seconds.
        test: test cut-off, the same kinds.

    Returns:
        (n_events,) int8 split codes.

    Raises:
        ConfigError: a cut-off is neither a fraction nor a timestamp, or valid comes after test.
    """
    times = events[TIME].to_numpy()
    valid_cut = resolve_cutoff(times, valid, "data.temporal.valid")
    test_cut = resolve_cutoff(times, test, "data.temporal.test")
    if valid_cut > test_cut:
        raise ConfigError(
            f"the valid cut-off ({valid!r} -> {iso(valid_cut)}) comes after the test cut-off "
            f"({test!r} -> {iso(test_cut)}); valid must be <= test"
        )
    split = np.full(len(events), TRAIN, dtype=np.int8)
    split[times >= valid_cut] = VALID
    split[times >= test_cut] = TEST
    return split


def users_without_train(events: pd.DataFrame, split: np.ndarray, user_col: str = USER) -> int:
    """Count the users who have no TRAIN event (they cannot be evaluated)."""
    has_train = pd.Series(split == TRAIN).groupby(events[user_col].to_numpy()).any()
    return int((~has_train).sum())


def cold_item_holdout(events: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """Draw a seeded random share of the distinct items to hold out as cold.

    Args:
        events: the event table.
        fraction: share of distinct items made cold, in [0, 1).
        seed: seed of `numpy.random.default_rng`.

    Returns:
        (n_distinct_items,) bool mask over the distinct `item` values of `events` in sorted
        order (`np.unique`); True marks a cold item. Pass the same `events` to
        `apply_cold_items`.
    """
    if not 0 <= fraction < 1:
        raise ConfigError(f"data.cold_items must be in [0, 1), got {fraction!r}")
    n_items = len(pd.factorize(events[ITEM], sort=True)[1])  # np.unique's order, without sorting every event
    n_cold = int(round(fraction * n_items))
    mask = np.zeros(n_items, dtype=bool)
    mask[np.random.default_rng(seed).choice(n_items, size=n_cold, replace=False)] = True
    return mask


def apply_cold_items(
    events: pd.DataFrame, split: np.ndarray, cold_mask: np.ndarray
) -> pd.DataFrame:
    """Drop the TRAIN and VALID events of cold items, so cold test targets are never trained on.

    Args:
        events: the table `cold_mask` was drawn from.
        split: (n_events,) split codes aligned with `events`.
        cold_mask: from `cold_item_holdout(events, ...)`.

    Returns:
        The kept events with a `split` column, in their original order. A user may be left
        without a VALID (or TRAIN) event.
    """
    codes = pd.factorize(events[ITEM], sort=True)[0]
    if len(cold_mask) != codes.max(initial=-1) + 1:
        raise ValueError("cold_mask was drawn from another event table")
    drop = cold_mask[codes] & (np.asarray(split) != TEST)
    return events.assign(split=np.asarray(split, dtype=np.int8)).loc[~drop].reset_index(drop=True)
