"""Readers on tiny hand-written files: every layout, and a clear DataError for each bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynrec_cli.data.readers import read_dataset, read_table
from dynrec_cli.data.readers.generic import read_csv_log
from dynrec_cli.data.readers.presets import (
    read_movielens,
    read_recbole,
    read_sequences,
    read_unisrec,
)
from dynrec_cli.data.clock import NS_PER_S as NS
from dynrec_cli.data.readers.timeparse import parse_time
from dynrec_cli.errors import ConfigError, DataError

REPO = Path(__file__).resolve().parents[2]
COLUMNS = {"user": "user_id", "item": "item_id", "time": "ts", "rating": None, "event": None}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def log(path: Path, columns: dict | None = None, items: Path | None = None, **kwargs):
    """read_csv_log with this file's defaults."""
    return read_csv_log(path, items, columns or COLUMNS, None, None, None, None, **kwargs)


def error_of(call, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        call(*args, **kwargs)
    return info.value


# ---- presets -------------------------------------------------------------------------------


def test_movielens_100k(tmp_path: Path) -> None:
    write(tmp_path / "u.data", "1\t10\t4\t881250949\n2\t20\t3\t881250950\n")
    flags_10 = "|".join("1" if g in (1, 5) else "0" for g in range(19))  # Action, Comedy
    flags_20 = "|".join("1" if g == 0 else "0" for g in range(19))
    (tmp_path / "u.item").write_bytes(
        f"10|Misérables, Les (1995)|01-Jan-1995||http://x|{flags_10}\n"
        f"20|unknown|||http://y|{flags_20}\n".encode("latin-1"))
    raw = read_movielens(tmp_path)
    assert raw.events[["user", "item", "time"]].values.tolist() == [
        ["1", "10", 881250949 * NS], ["2", "20", 881250950 * NS]]
    assert raw.events["row"].tolist() == [1, 2]
    assert raw.events["rating"].tolist() == [4.0, 3.0]
    assert raw.text_fields == ["title", "genres", "year"]
    first, second = raw.items.to_dict("records")
    assert first == {"item": "10", "title": "Misérables, Les", "genres": "Action, Comedy",
                     "year": "1995"}
    assert second == {"item": "20", "title": "unknown", "genres": "unknown", "year": ""}


def test_movielens_1m(tmp_path: Path) -> None:
    write(tmp_path / "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n")
    (tmp_path / "movies.dat").write_bytes(
        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
        "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n".encode("latin-1"))
    raw = read_movielens(tmp_path)
    assert raw.events["item"].tolist() == ["1193", "661"]
    assert raw.events["time"].tolist() == [978300760 * NS, 978302109 * NS]
    items = raw.items.set_index("item")
    assert items.loc["661", "genres"] == "Animation, Children's, Musical"
    assert items.loc["1193", "title"] == "One Flew Over the Cuckoo's Nest"
    assert items.loc["1193", "year"] == "1975"
    assert raw.sources == [tmp_path / "ratings.dat", tmp_path / "movies.dat"]


def test_movielens_latest_with_tags(tmp_path: Path) -> None:
    write(tmp_path / "ratings.csv", "userId,movieId,rating,timestamp\n"
          "1,1,4.5,1260759144\n1,2,3.0,1260759179\n2,1,5.0,1260759200\n")
    write(tmp_path / "movies.csv", "movieId,title,genres\n"
          '1,"American President, The (1995)",Comedy|Drama|Romance\n'
          "2,Some Doc,(no genres listed)\n")
    write(tmp_path / "tags.csv", "userId,movieId,tag,timestamp\n"
          "3,1,funny,1\n4,1,politics,2\n5,1,Politics,3\n6,2,dull,4\n")
    raw = read_movielens(tmp_path)
    assert raw.events["row"].tolist() == [2, 3, 4]
    assert raw.events["rating"].tolist() == [4.5, 3.0, 5.0]
    assert raw.text_fields == ["title", "genres", "year", "tags"]
    first, second = raw.items.to_dict("records")
    assert first == {"item": "1", "title": "American President, The",
                     "genres": "Comedy, Drama, Romance", "year": "1995",
                     "tags": "politics, funny"}
    assert second == {"item": "2", "title": "Some Doc", "genres": "", "year": "",
                      "tags": "dull"}
    assert len(raw.sources) == 3


def test_movielens_without_a_known_layout(tmp_path: Path) -> None:
    write(tmp_path / "data.csv", "a,b\n1,2\n")
    err = error_of(read_movielens, tmp_path)
    assert str(tmp_path) in str(err) and "u.data" in str(err) and "ratings.dat" in str(err)


def test_recbole(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    folder.mkdir()
    write(folder / "tiny.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
          "196\t242\t3\t881250949\n186\t302\t3\t891717742.5\n")
    write(folder / "tiny.item", "item_id:token\tmovie_title:token_seq\trelease_year:token\t"
          "class:token_seq\tscore:float\n242\tKolya\t1996\tComedy\t0.5\n"
          "302\tL.A. Confidential\t1997\tCrime Film-Noir Mystery Thriller\t0.7\n")
    raw = read_recbole(folder)
    assert raw.events[["user", "item", "time"]].values.tolist() == [
        ["196", "242", 881250949 * NS], ["186", "302", 891717742_500_000_000]]
    assert raw.events["rating"].tolist() == [3.0, 3.0]
    assert raw.text_fields == ["movie_title", "release_year", "class"]
    assert raw.items.set_index("item").loc["302", "class"] == "Crime Film-Noir Mystery Thriller"
    assert raw.has_time


def test_sequences(tmp_path: Path) -> None:
    path = write(tmp_path / "Beauty.txt", "1 5 6 7\n2 6 8\n")
    raw = read_sequences(tmp_path)
    assert raw.events_path == path and raw.items is None and not raw.has_time
    assert raw.events[["user", "item", "time", "row"]].values.tolist() == [
        ["1", "5", 0, 1], ["1", "6", NS, 1], ["1", "7", 2 * NS, 1], ["2", "6", 0, 2], ["2", "8", NS, 2]]


def test_sequences_user_without_items(tmp_path: Path) -> None:
    path = write(tmp_path / "s.txt", "1 5 6\n2\n")
    err = error_of(read_sequences, path)
    assert str(path) in str(err) and err.row == 2


def test_unisrec(tmp_path: Path) -> None:
    header = "user_id:token\titem_id_list:token_seq\titem_id:token\n"
    write(tmp_path / "Sci.train.inter", header + "0\t0\t1\n")
    write(tmp_path / "Sci.valid.inter", header + "0\t0 1\t2\n1\t\t0\n")
    write(tmp_path / "Sci.test.inter", header + "0\t0 1 2\t1\n1\t0\t2\n")
    write(tmp_path / "Sci.item2index", "B001\t0\nB002\t1\nB003\t2\n")
    write(tmp_path / "Sci.text", "item_id:token\ttext:token_seq\nB002\tGlue. Tools. \n"
          "B001\tTape. Tools. \n")
    raw = read_unisrec(tmp_path)
    assert raw.events[["user", "item", "time", "row"]].values.tolist() == [
        ["0", "0", 0, 2], ["0", "1", NS, 2], ["0", "2", 2 * NS, 2], ["0", "1", 3 * NS, 2],
        ["1", "0", 0, 3], ["1", "2", NS, 3]]
    assert raw.items.to_dict("records") == [
        {"item": "0", "text": "Tape. Tools.", "asin": "B001"},
        {"item": "1", "text": "Glue. Tools.", "asin": "B002"},
        {"item": "2", "text": "", "asin": "B003"}]
    assert raw.text_fields == ["text"] and not raw.has_time


def test_read_dataset_needs_its_path() -> None:
    with pytest.raises(ConfigError, match="data.path="):
        read_dataset("movielens", None, None, None, {}, None, None, None, None)
    with pytest.raises(ConfigError, match="data.interactions="):
        read_dataset("csv", None, None, None, COLUMNS, None, None, None, None)
    with pytest.raises(ConfigError, match="movielens"):
        read_dataset("netflix", "x", None, None, {}, None, None, None, None)


def test_shipped_sample() -> None:
    raw = read_dataset("movielens", str(REPO / "data/samples/ml-latest-small"), None, None, {},
                       None, ["title", "genres"], None, None)
    assert raw.events["user"].nunique() == 300
    assert set(raw.events["item"]) == set(raw.items["item"])
    assert raw.text_fields == ["title", "genres"]
    assert (raw.items["title"] != "").all()


# ---- generic logs and tables ---------------------------------------------------------------


def test_csv_log_with_column_mapping_and_catalogue(tmp_path: Path) -> None:
    events = write(tmp_path / "log.tsv", "who\twhat\twhen\tstars\tkind\n"
                   "u1\ti1\t2020-01-01T00:00:10Z\t4\tclick\nu2\ti2\t2020-01-01\t5\tbuy\n")
    items = write(tmp_path / "items.csv", "what,title,brand\ni1,Red shoe,Acme\ni2,,Zeta\n")
    columns = {"user": "who", "item": "what", "time": "when", "rating": "stars", "event": "kind"}
    raw = log(events, columns, items)
    assert raw.events.columns.tolist() == ["user", "item", "time", "rating", "event", "row"]
    assert raw.events["time"].tolist() == [1577836810 * NS, 1577836800 * NS]
    assert raw.events["event"].tolist() == ["click", "buy"]
    assert raw.events["row"].tolist() == [2, 3]
    assert raw.text_fields == ["title", "brand"]
    assert raw.items.to_dict("records") == [
        {"item": "i1", "title": "Red shoe", "brand": "Acme"},
        {"item": "i2", "title": "", "brand": "Zeta"}]


def test_csv_log_without_time_uses_file_order(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id\na,x\na,y\n")
    raw = log(path, {"user": "user_id", "item": "item_id"})
    assert raw.events["time"].tolist() == [0, NS] and not raw.has_time


def test_parquet_log(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pd.DataFrame({"user_id": [1, 2], "item_id": [10.0, 20.0], "ts": [1_600_000_000_000] * 2}
                 ).to_parquet(path)
    raw = log(path)
    assert raw.events["user"].tolist() == ["1", "2"]
    assert raw.events["item"].tolist() == ["10", "20"]
    assert raw.events["time"].tolist() == [1_600_000_000 * NS] * 2


def test_bom_header_parses(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,ts\nu,i,5\n", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_table(path).columns.tolist() == ["user_id", "item_id", "ts"]


def test_parse_time_seconds_ms_and_dates() -> None:
    rows = pd.Series([2, 3])
    seconds = parse_time(pd.Series(["1260759144", "1260759179.9"]), Path("f"), "t", rows)
    assert seconds.dtype == np.int64 and seconds.tolist() == [1260759144 * NS, 1260759179_900_000_000]
    millis = parse_time(pd.Series(["1260759144000", "1260759179000"]), Path("f"), "t", rows)
    assert millis.tolist() == [1260759144 * NS, 1260759179 * NS]
    dates = parse_time(pd.Series(["2016-10-17 14:03:00", "2016-10-17T16:03:00+02:00"]),
                       Path("f"), "t", rows)
    assert dates.tolist() == [1476712980 * NS, 1476712980 * NS]


# ---- bad inputs: DataError naming the file, and the row or column --------------------------


def test_missing_file(tmp_path: Path) -> None:
    err = error_of(log, tmp_path / "nope.csv")
    assert "nope.csv" in str(err) and "data.interactions" in str(err)


def test_missing_column_lists_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user,item_id,ts\nu,i,5\n")
    err = error_of(log, path)
    assert "log.csv" in str(err) and "'user_id'" in str(err) and "data.columns.user" in str(err)
    assert "user, item_id, ts" in str(err)


def test_unparsable_timestamp_names_the_row(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,ts\nu,i,2020-01-01\nu,j,yesterday\n")
    err = error_of(log, path)
    assert err.row == 3 and err.column == "ts" and "yesterday" in str(err)
    assert "log.csv, row 3, column 'ts'" in str(err)


def test_empty_log(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,ts\n")
    assert "no data rows" in str(error_of(log, path))
    empty = write(tmp_path / "zero.csv", "")
    assert "zero.csv" in str(error_of(log, empty))


def test_duplicate_item_ids_in_catalogue(tmp_path: Path) -> None:
    events = write(tmp_path / "log.csv", "user_id,item_id,ts\nu,i,5\n")
    items = write(tmp_path / "items.csv", "item_id,title\ni,A\nj,B\ni,C\n")
    err = error_of(log, events, items=items)
    assert "items.csv" in str(err) and "rows 2 and 4" in str(err) and err.row == 4


def test_wrong_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id;item_id;ts\nu;i;5\n")
    err = error_of(log, path)
    assert "log.csv" in str(err) and err.row == 1 and "data.sep=';'" in str(err)


def test_extra_field(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,ts\nu,i,5\nu,i,5,9\n")
    err = error_of(log, path)
    assert "log.csv" in str(err) and err.row == 3


def test_truncated_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,ts\nu,i,5\n\nu,,7\nu,i")
    err = error_of(log, path)
    assert "log.csv" in str(err) and err.row == 5 and "2 fields" in str(err)


def test_zero_byte_parquet(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    path.write_bytes(b"")
    assert "log.parquet" in str(error_of(log, path))
    path.write_bytes(b"not parquet at all")
    assert "Parquet" in str(error_of(log, path))


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"user_id,item_id,ts\nu,i,5\nu,caf\xe9,6\n")
    err = error_of(log, path)
    assert "log.csv" in str(err) and err.row == 3 and "data.encoding=latin-1" in str(err)


def test_negative_timestamp(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,ts\nu,i,5\nu,j,-3\n")
    err = error_of(log, path)
    assert err.row == 3 and err.column == "ts" and "negative" in str(err)


def test_mixed_seconds_and_milliseconds(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,ts\n"
                 "u,a,1260759144000\nu,b,1260759145\nu,c,1260759146000\n")
    err = error_of(log, path)
    assert err.row == 3 and "milliseconds" in str(err)


def test_nan_user_id(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,ts\nu,i,5\n,i,6\n")
    err = error_of(log, path)
    assert "log.csv" in str(err) and err.row == 3 and err.column == "user_id"
    parquet = tmp_path / "log.parquet"
    pd.DataFrame({"user_id": ["u", None], "item_id": ["i", "j"], "ts": [5, 6]}).to_parquet(parquet)
    assert error_of(log, parquet).row == 2


def test_duplicate_header_names(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,user_id\nu,i,5\n")
    err = error_of(log, path)
    assert "appears twice" in str(err) and err.row == 1


def test_bad_rating(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user_id,item_id,ts,r\nu,i,5,4\nu,j,6,five\n")
    err = error_of(log, path, {**COLUMNS, "rating": "r"})
    assert err.row == 3 and err.column == "r"


def test_quoted_field_spanning_lines(tmp_path: Path) -> None:
    events = write(tmp_path / "log.csv", "user_id,item_id,ts\nu,i,5\nu,j,6\n")
    items = write(tmp_path / "items.csv", 'item_id,title,brand\ni,"Two\nlines",\n\nj,One,Z\n')
    raw = log(events, items=items)
    assert raw.items.to_dict("records") == [{"item": "i", "title": "Two\nlines", "brand": ""},
                                            {"item": "j", "title": "One", "brand": "Z"}]
