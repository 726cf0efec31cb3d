"""`data.events` keeps event types as text: numbers, a bare word and padded values all match."""

from __future__ import annotations

from pathlib import Path

from dynrec_cli.data.clean import event_counts, filter_events
from dynrec_cli.data.readers.generic import read_csv_log

COLUMNS = {"user": "user_id", "item": "item_id", "time": "ts", "rating": None, "event": "event"}
LOG = "user_id,item_id,ts,event\nu,a,1,1\nu,b,2, BUY\nu,c,3,view\nv,a,4,BUY \nv,b,5,view\n"


def events(tmp_path: Path):
    (tmp_path / "log.csv").write_text(LOG)
    return read_csv_log(tmp_path / "log.csv", None, COLUMNS, None, None, None, None).events


def test_a_number_from_hydra_matches_the_same_text_in_the_log(tmp_path: Path) -> None:
    assert filter_events(events(tmp_path), None, [1])["item"].tolist() == ["a"]


def test_a_bare_word_is_one_event_type_not_its_letters(tmp_path: Path) -> None:
    assert filter_events(events(tmp_path), None, "view")["item"].tolist() == ["c", "b"]


def test_values_padded_with_spaces_match_their_stripped_text(tmp_path: Path) -> None:
    kept = filter_events(events(tmp_path), None, ["BUY"])
    assert kept["item"].tolist() == ["b", "a"]
    assert filter_events(events(tmp_path), None, ["buy"]).empty  # case-sensitive


def test_event_counts_lists_the_most_frequent_types(tmp_path: Path) -> None:
    assert event_counts(events(tmp_path)) == "'BUY' (2), 'view' (2), '1' (1)"
    assert event_counts(events(tmp_path), shown=1) == "'BUY' (2) and 2 more"
