"""Cleaning the event log: filters, duplicates, k-core fixed point, ordering, id maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dynrec_cli.data.clean import (
    build_id_maps,
    check_catalogue,
    drop_duplicate_events,
    filter_events,
    kcore,
    sort_events,
    truncate_recent,
)
from dynrec_cli.errors import ConfigError, DataError


def make_events(
    rows: list[tuple], columns: tuple[str, ...] = ("user", "item", "time")
) -> pd.DataFrame:
    """An event table from tuples, with `row` numbering the lines from 1."""
    events = pd.DataFrame(rows, columns=list(columns))
    events["time"] = events["time"].astype("int64")
    events["row"] = np.arange(1, len(events) + 1, dtype=np.int64)
    return events


def pairs(events: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(events["user"], events["item"]))


def test_filter_events_by_rating_and_event_type() -> None:
    events = make_events(
        [("u", "a", 1, 5.0, "buy"), ("u", "b", 2, 2.0, "buy"), ("u", "c", 3, 4.0, "view")],
        ("user", "item", "time", "rating", "event"),
    )
    assert list(filter_events(events, 3.0, None)["item"]) == ["a", "c"]
    assert list(filter_events(events, None, ["buy"])["item"]) == ["a", "b"]
    assert list(filter_events(events, 3.0, ["buy"])["item"]) == ["a"]
    assert len(filter_events(events, None, None)) == 3


def test_filter_without_the_column_names_the_mapping_key() -> None:
    events = make_events([("u", "a", 1)])
    with pytest.raises(ConfigError, match=r"no rating column.*data\.columns\.rating="):
        filter_events(events, 4.0, None)
    with pytest.raises(ConfigError, match=r"no event column.*data\.columns\.event="):
        filter_events(events, None, ["click"])


def test_drop_duplicates_keeps_first_and_counts() -> None:
    events = make_events(
        [("u", "a", 1, "view"), ("u", "a", 1, "view"), ("u", "a", 1, "buy"), ("u", "a", 2, "view")],
        ("user", "item", "time", "event"),
    )
    kept, dropped = drop_duplicate_events(events)
    assert dropped == 1
    assert list(kept["row"]) == [1, 3, 4]
    # Without an event column, (user, item, time) alone decides.
    kept, dropped = drop_duplicate_events(events.drop(columns="event"))
    assert dropped == 2 and list(kept["row"]) == [1, 4]


def test_kcore_reaches_its_fixed_point_through_a_chain() -> None:
    # i1 has one event; dropping it leaves u1 with one, which leaves i2 with one, then u2,
    # i3 and u3 fall in turn. Only the dense block {a, b} x {x, y} survives.
    events = make_events(
        [
            ("u1", "i1", 1), ("u1", "i2", 2),
            ("u2", "i2", 1), ("u2", "i3", 2),
            ("u3", "i3", 1), ("u3", "x", 2),
            ("a", "x", 1), ("a", "y", 2),
            ("b", "x", 1), ("b", "y", 2),
        ]
    )
    core = kcore(events, min_user=2, min_item=2)
    assert pairs(core) == {("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")}
    again = kcore(core, min_user=2, min_item=2)
    pd.testing.assert_frame_equal(again, core)


def test_kcore_thresholds_of_zero_or_one_filter_nothing() -> None:
    events = make_events([("u", "a", 1), ("v", "b", 1)])
    assert len(kcore(events, 0, 0)) == 2
    assert len(kcore(events, 1, 1)) == 2


def test_sort_is_stable_on_tied_timestamps() -> None:
    events = make_events([("u2", "a", 5), ("u1", "c", 7), ("u1", "b", 7), ("u1", "d", 3)])
    ordered = sort_events(events)
    assert list(ordered["user"]) == ["u1", "u1", "u1", "u2"]
    # c and b share time 7: c comes first in the file, so it stays first.
    assert list(ordered["item"]) == ["d", "c", "b", "a"]
    assert list(ordered.index) == [0, 1, 2, 3]


def test_sort_breaks_ties_by_row_even_when_input_is_shuffled() -> None:
    events = make_events([("u", "x", 1), ("u", "y", 1), ("u", "z", 1)]).iloc[[2, 0, 1]]
    assert list(sort_events(events)["item"]) == ["x", "y", "z"]


def test_truncate_keeps_the_most_recent_events() -> None:
    events = sort_events(make_events([("u", "a", 1), ("u", "b", 2), ("u", "c", 3), ("v", "d", 1)]))
    assert list(truncate_recent(events, 2)["item"]) == ["b", "c", "d"]
    assert len(truncate_recent(events, None)) == 4
    with pytest.raises(ConfigError):
        truncate_recent(events, 0)


def test_id_maps_are_sorted_and_items_start_at_one() -> None:
    events = sort_events(make_events([("ub", "z", 1), ("ua", "y", 1), ("ua", "z", 2)]))
    catalogue = pd.DataFrame({"item": ["y", "z", "unused"], "title": ["Y", "Z", "U"]})
    mapped, users, items = build_id_maps(events, catalogue)
    assert list(users["user_id"]) == ["ua", "ub"] and list(users["user_idx"]) == [0, 1]
    assert list(items["item_id"]) == ["y", "z"] and list(items["item_idx"]) == [1, 2]
    assert list(items["title"]) == ["Y", "Z"]
    assert list(mapped["user_idx"]) == [0, 0, 1]
    assert list(mapped["item_idx"]) == [1, 2, 2]
    # Each event's indices point back to its own ids.
    assert (users["user_id"].to_numpy()[mapped["user_idx"]] == mapped["user"].to_numpy()).all()
    assert (items["item_id"].to_numpy()[mapped["item_idx"] - 1] == mapped["item"].to_numpy()).all()


def test_id_maps_give_uncatalogued_items_empty_text() -> None:
    events = make_events([("u", "a", 1), ("u", "b", 2)])
    _, _, items = build_id_maps(events, pd.DataFrame({"item": ["a"], "title": ["A"]}))
    assert list(items["title"]) == ["A", ""]


def test_missing_catalogue_items_name_the_file_first_id_and_count() -> None:
    events = make_events([("u", "a", 1), ("u", "q", 2), ("v", "r", 1), ("v", "q", 2)])
    catalogue = pd.DataFrame({"item": ["a"], "title": ["A"]})
    with pytest.raises(DataError, match=r"items\.csv.*2 item id\(s\).*'q', in log\.csv row \d+.*allow_missing_items=true"):
        check_catalogue(events.assign(row=range(2, 6)), catalogue, "data/items.csv", events_path="data/log.csv")
    missing = check_catalogue(events, catalogue, "data/items.csv", allow_missing=True)
    assert list(missing) == ["q", "r"]
    assert len(check_catalogue(events, pd.DataFrame({"item": ["a", "q", "r"]}), "x")) == 0
