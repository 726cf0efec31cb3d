"""Splits: leave-one-out, temporal cut-offs, cold items; and the dataset statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dynrec_cli.data.clean import sort_events
from dynrec_cli.data.clock import NS_PER_S as NS
from dynrec_cli.data.split import (
    apply_cold_items,
    cold_item_holdout,
    leave_one_out,
    temporal_split,
    users_without_train,
)
from dynrec_cli.data.stats import dataset_statistics
from dynrec_cli.data.types import TEST, TRAIN, VALID
from dynrec_cli.errors import ConfigError


def make_events(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    events = pd.DataFrame(rows, columns=["user", "item", "time"])
    events["time"] = events["time"].astype("int64")
    events["row"] = np.arange(1, len(events) + 1, dtype=np.int64)
    return events


def user_log(user: str, n: int) -> list[tuple[str, str, int]]:
    return [(user, f"{user}-{k}", 10 * k) for k in range(n)]


def test_leave_one_out_by_sequence_length() -> None:
    rows = user_log("a", 1) + user_log("b", 2) + user_log("c", 3) + user_log("d", 5)
    events = sort_events(make_events(rows))
    split = leave_one_out(events)
    assert split.dtype == np.int8
    by_user = {u: list(split[(events["user"] == u).to_numpy()]) for u in "abcd"}
    assert by_user["a"] == [TRAIN]
    assert by_user["b"] == [TRAIN, TRAIN]
    assert by_user["c"] == [TRAIN, VALID, TEST]
    assert by_user["d"] == [TRAIN, TRAIN, TRAIN, VALID, TEST]


def test_leave_one_out_target_is_the_later_line_among_tied_times() -> None:
    events = sort_events(make_events([("u", "first", 1), ("u", "late", 9), ("u", "early", 9)]))
    split = leave_one_out(events)
    assert events["item"][split == TEST].tolist() == ["early"]
    assert events["item"][split == VALID].tolist() == ["late"]


def test_temporal_split_with_fractions() -> None:
    events = sort_events(make_events([("u", str(t), t) for t in range(10)]))
    split = temporal_split(events, 0.8, 0.9)
    # quantile(0.8) of 0..9 is 7.2 and quantile(0.9) is 8.1.
    assert list(split) == [TRAIN] * 8 + [VALID] + [TEST]


def test_temporal_split_with_absolute_timestamps() -> None:
    events = sort_events(
        make_events([("u", "a", 1_000 * NS), ("u", "b", 2_000 * NS), ("v", "c", 3_000 * NS), ("v", "d", 4_000 * NS)])
    )
    split = temporal_split(events, 2_000, 4_000)  # cut-offs in unix seconds, times in nanoseconds
    assert list(split) == [TRAIN, VALID, VALID, TEST]
    assert users_without_train(events, split) == 1  # v has only VALID and TEST events


def test_temporal_split_rejects_bad_cutoffs() -> None:
    events = make_events([("u", "a", 1_000), ("u", "b", 2_000)])
    with pytest.raises(ConfigError, match="valid must be <= test"):
        temporal_split(events, 0.9, 0.5)
    with pytest.raises(ConfigError, match="fraction"):
        temporal_split(events, 0, 0.5)


def cold_log() -> pd.DataFrame:
    rows = [(f"u{u}", f"i{(u + k) % 20:02d}", k) for u in range(20) for k in range(5)]
    return sort_events(make_events(rows))


def test_cold_items_are_seeded() -> None:
    events = cold_log()
    first = cold_item_holdout(events, 0.25, seed=7)
    assert first.sum() == 5 and len(first) == 20
    np.testing.assert_array_equal(first, cold_item_holdout(events, 0.25, seed=7))
    assert not np.array_equal(first, cold_item_holdout(events, 0.25, seed=8))
    assert not cold_item_holdout(events, 0.0, seed=7).any()


def test_cold_items_lose_train_and_valid_events_only() -> None:
    events = cold_log()
    split = leave_one_out(events)
    cold = cold_item_holdout(events, 0.25, seed=7)
    cold_ids = set(np.unique(events["item"])[cold])
    kept = apply_cold_items(events, split, cold)
    is_cold = kept["item"].isin(cold_ids)
    assert (kept["split"][is_cold] == TEST).all()
    # Every TEST event survives, and every non-cold event survives.
    assert (kept["split"] == TEST).sum() == (split == TEST).sum()
    assert (~is_cold).sum() == (~events["item"].isin(cold_ids)).sum()
    dropped = len(events) - len(kept)
    assert dropped == (events["item"].isin(cold_ids) & (split != TEST)).sum() > 0


def test_dataset_statistics_on_a_tiny_log() -> None:
    events = pd.DataFrame(
        {
            "user_idx": [0, 0, 0, 1, 1, 1, 1, 2],
            "item_idx": [1, 2, 3, 1, 2, 2, 4, 1],
            "split": [TRAIN, VALID, TEST, TRAIN, TRAIN, VALID, TEST, TEST],
        }
    )
    stats = dataset_statistics(events, n_users=3, n_items=4)
    assert (stats["users"], stats["items"], stats["events"]) == (3, 4, 8)
    assert stats["density"] == pytest.approx(8 / 12)
    assert stats["events_per_split"] == {"train": 3, "valid": 2, "test": 3}
    lengths = stats["sequence_length"]
    assert (lengths["min"], lengths["median"], lengths["max"]) == (1, 3.0, 4)
    assert lengths["mean"] == pytest.approx(8 / 3)
    # Test targets 3 and 4 never appear in TRAIN; item 1 does.
    assert stats["cold_test_targets"] == 2
    assert stats["users_without_train"] == 1
