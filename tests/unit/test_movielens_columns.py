"""MovieLens CSVs are read by header name; .dat files by position, refusing a line of the wrong width."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynrec_cli.data.clock import NS_PER_S as NS
from dynrec_cli.data.readers.presets import read_movielens, read_recbole
from dynrec_cli.errors import DataError

MOVIES = "movieId,title,genres\n10,Heat (1995),Action\n17,Sense (1995),Drama\n"


def error_of(path: Path) -> DataError:
    with pytest.raises(DataError) as info:
        read_movielens(path)
    return info.value


def test_reordered_header_keeps_users_and_items_apart(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("movieId,userId,timestamp,rating\n10,2,835355493,4.0\n17,2,835355681,5.0\n")
    (tmp_path / "movies.csv").write_text("title,genres,movieId\nHeat (1995),Action,10\nSense (1995),Drama,17\n")
    raw = read_movielens(tmp_path)
    assert raw.events["user"].tolist() == ["2", "2"]
    assert raw.events["item"].tolist() == ["10", "17"]
    assert raw.events["rating"].tolist() == [4.0, 5.0]
    assert raw.events["time"].tolist() == [835355493 * NS, 835355681 * NS]
    assert raw.items.set_index("item").loc["17", "title"] == "Sense"


def test_ratings_csv_without_a_timestamp_column_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating\n2,10,4.0\n")
    (tmp_path / "movies.csv").write_text(MOVIES)
    err = error_of(tmp_path)
    assert "ratings.csv" in str(err) and "no column timestamp" in str(err)
    assert "userId, movieId, rating, timestamp" in str(err) and err.row == 1


def test_dat_line_with_three_fields_names_its_row_not_data_sep(tmp_path: Path) -> None:
    (tmp_path / "ratings.dat").write_text("1::10::4::835355493\n1::17::5\n1::39::5::835355604\n")
    err = error_of(tmp_path)
    assert "ratings.dat" in str(err) and err.row == 2 and "expected 4" in str(err)
    assert "data.sep" not in str(err) and "'::'" in str(err)


def test_recbole_ragged_line_does_not_suggest_data_sep(tmp_path: Path) -> None:
    (tmp_path / "x.inter").write_text("user_id:token\titem_id:token\nu\ti\nu\ti\tx\n")
    with pytest.raises(DataError) as info:
        read_recbole(tmp_path / "x.inter")
    assert info.value.row == 3 and "data.sep" not in str(info.value) and "'\\t'" in str(info.value)
