"""GroupLens files without a header as shipped, or with a header line a copy added: both read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EVENTS = [f"{u}\t{10 + (u * 3 + k) % 6}\t{1 + k % 5}\t{881250000 + 60 * k}" for u in range(1, 7) for k in range(6)]
FLAGS = "|".join(["0"] * 18 + ["1"])
ITEMS = [f"{i}|Movie {i} (1995)|01-Jan-1995||http://x|{FLAGS}" for i in range(10, 16)]
ARGS = ["data=movielens", "data.min_user_interactions=1", "data.min_item_interactions=1"]


def _prepare(cli, folder: Path, run: Path) -> dict:
    result = cli("prepare", f"run_dir={run}", f"data.path={folder}", *ARGS)
    assert result.exit_code == 0, result.output
    return json.loads((run / "prepare" / "stats.json").read_text())


@pytest.mark.parametrize("events_header", ["user_id\titem_id\trating\ttimestamp", "userId\tmovieId\trating\ttimestamp"])
def test_u_data_and_u_item_with_a_header_line_read_as_without(cli, tmp_path: Path, events_header: str) -> None:
    plain, headed = tmp_path / "plain", tmp_path / "headed"
    for folder, header in ((plain, []), (headed, [events_header])):
        folder.mkdir()
        (folder / "u.data").write_text("\n".join(header + EVENTS) + "\n")
        (folder / "u.item").write_text("\n".join((["movie id|title|release|video|url|" + "|".join(f"g{g}" for g in range(19))]
                                                  if header else []) + ITEMS) + "\n", encoding="latin-1")
    expected = _prepare(cli, plain, tmp_path / "run_plain")
    assert _prepare(cli, headed, tmp_path / "run_headed") == expected
    assert expected["events"] == len(EVENTS) and expected["items"] == 6


def test_a_ratings_dat_with_a_header_line_reads(cli, tmp_path: Path) -> None:
    (tmp_path / "ratings.dat").write_text("UserID::MovieID::Rating::Timestamp\n" + "\n".join(e.replace("\t", "::") for e in EVENTS) + "\n")
    assert _prepare(cli, tmp_path, tmp_path / "run")["events"] == len(EVENTS)


def test_a_bad_second_line_is_still_refused_with_its_row(cli, tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("user_id\titem_id\trating\ttimestamp\n1\t10\tfour\t881250000\n")
    result = cli("prepare", f"run_dir={tmp_path / 'run'}", f"data.path={tmp_path}", *ARGS)
    assert result.exit_code == 2 and "u.data" in result.output and "row 2" in result.output, result.output
