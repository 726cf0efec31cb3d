"""Read formats that store ordered item sequences, without timestamps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli.data.clock import positions
from dynrec_cli.data.readers.frames import events_frame, ids, items_frame, unique_ids
from dynrec_cli.data.readers.recbole import read_atomic
from dynrec_cli.data.readers.tables import read_table, read_text, require_columns
from dynrec_cli.data.types import RawData
from dynrec_cli.errors import DataError

UNISREC_FILES = "X.test.inter, X.item2index and X.text"


def read_sequences(path: Path, encoding: str | None = None) -> RawData:
    """Read one line per user, `user item item ...`, space-separated and chronological.

    Args:
        path: the file, or a folder holding exactly one `.txt` file.
        encoding: text encoding; None means UTF-8.

    Returns:
        Events whose time is the position in the user's line, as seconds (has_time False); no catalogue.

    Raises:
        DataError: a line with a user but no items, or a user on two lines.
    """
    path = _single_file(Path(path), ".txt")
    users, items, times, rows = [], [], [], []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(read_text(path, encoding).split("\n"), start=1):
        tokens = line.split()
        if not tokens:
            continue
        user, seq = tokens[0], tokens[1:]
        if not seq:
            raise DataError(path, f"user '{user}' has no items", row=line_no)
        if user in seen:
            raise DataError(path, f"user '{user}' is also on line {seen[user]}", row=line_no)
        seen[user] = line_no
        users += [user] * len(seq)
        items += seq
        times += range(len(seq))
        rows += [line_no] * len(seq)
    if not users:
        raise DataError(path, "has no data rows")
    events = events_frame(pd.Series(users), pd.Series(items), positions(np.array(times)), np.array(rows))
    return RawData(events, None, path, None, [path], has_time=False)


def read_unisrec(path: Path, encoding: str | None = None) -> RawData:
    """Read a UniSRec/Recformer downstream folder (`X.test.inter`, `X.item2index`, `X.text`).

    Each user's whole sequence is their test history plus the test target, so the train and
    valid files are not read. Items are the integer indices of `X.item2index`, as str.

    Args:
        path: the folder.
        encoding: text encoding; None means UTF-8.

    Returns:
        Events whose time is the position in the sequence, as seconds (has_time False); items with the
        text field `text` ("" where `X.text` has none) and their `asin`.

    Raises:
        DataError: missing files or columns, a user on two lines, or a repeated item.
    """
    test = _single_file(Path(path), ".test.inter")
    prefix = test.name[: -len(".test.inter")]
    df, _ = read_atomic(test, encoding)
    require_columns(df, test, {"user_id field": "user_id", "item_id_list field": "item_id_list",
                               "item_id field": "item_id"})
    user = ids(df["user_id"], test, "user_id")
    unique_ids(user, test, "user_id")
    ids(df["item_id"], test, "item_id")
    seqs = (df["item_id_list"] + " " + df["item_id"]).str.split()
    lengths = seqs.str.len().to_numpy()
    flat = seqs.explode()
    events = events_frame(np.repeat(user.to_numpy(), lengths), flat.to_numpy(),
                          positions(flat.groupby(level=0).cumcount().to_numpy()), flat.index.to_numpy())
    index_file, text_file = test.with_name(f"{prefix}.item2index"), test.with_name(f"{prefix}.text")
    catalogue = _unisrec_items(index_file, text_file, encoding)
    return RawData(events, catalogue, test, index_file, [test, index_file, text_file],
                   has_time=False, text_fields=["text"])


def _unisrec_items(index_file: Path, text_file: Path, encoding: str | None) -> pd.DataFrame:
    index = read_table(index_file, sep="\t", header=False, names=["asin", "item"],
                       encoding=encoding, sep_key=None)
    item = ids(index["item"], index_file, "item")
    unique_ids(item, index_file, "item")
    texts, _ = read_atomic(text_file, encoding)
    require_columns(texts, text_file, {"item_id field": "item_id", "text field": "text"})
    asin = ids(texts["item_id"], text_file, "item_id")
    unique_ids(asin, text_file, "item_id")
    text = index["asin"].map(pd.Series(texts["text"].str.strip().to_numpy(), index=asin))
    return items_frame(item, pd.DataFrame({"text": text, "asin": index["asin"]}))


def _single_file(path: Path, suffix: str) -> Path:
    """`path` itself, or the one file in folder `path` whose name ends with `suffix`."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise DataError(path, "not found", fix="set data.path= to the file or its folder")
    found = sorted(p for p in path.iterdir() if p.name.endswith(suffix))
    if len(found) != 1:
        listed = ", ".join(p.name for p in found) or "none"
        expected = UNISREC_FILES if suffix == ".test.inter" else f"one *{suffix} file"
        raise DataError(path, f"expected {expected}; found {suffix} files: {listed}",
                        fix="set data.path= to the file itself" if found else None)
    return found[0]
