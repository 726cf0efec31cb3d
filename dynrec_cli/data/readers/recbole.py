"""Read RecBole atomic files: `<name>.inter` and an optional `<name>.item`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dynrec_cli.data.clock import positions
from dynrec_cli.data.readers.frames import events_frame, ids, items_frame, ratings, unique_ids
from dynrec_cli.data.readers.tables import read_table, require_columns
from dynrec_cli.data.readers.timeparse import parse_time
from dynrec_cli.data.types import RawData
from dynrec_cli.errors import DataError

USER_ID, ITEM_ID, TIMESTAMP, RATING = "user_id", "item_id", "timestamp", "rating"
TEXT_TYPES = {"token", "token_seq"}


def read_recbole(path: Path, encoding: str | None = None) -> RawData:
    """Read a RecBole dataset folder (or its `.inter` file).

    The `.inter` file needs `user_id` and `item_id`; `timestamp` (unix seconds) and `rating`
    are used when present. The `.item` file's token and token_seq columns other than
    `item_id` become text fields, under their own names, values as they are.

    Args:
        path: the folder holding `<folder name>.inter` (or a single `.inter`), or the file.
        encoding: text encoding; None means UTF-8.

    Raises:
        DataError: no `.inter` file, a missing column, or bad content.
    """
    inter = _find_inter(Path(path))
    df, _ = read_atomic(inter, encoding)
    require_columns(df, inter, {"user_id field": USER_ID, "item_id field": ITEM_ID})
    rows = df.index.to_numpy()
    has_time = TIMESTAMP in df.columns
    time = (parse_time(df[TIMESTAMP], inter, TIMESTAMP, rows) if has_time
            else positions(len(df)))
    events = events_frame(
        ids(df[USER_ID], inter, USER_ID), ids(df[ITEM_ID], inter, ITEM_ID), time, rows,
        rating=ratings(df[RATING], inter, RATING) if RATING in df.columns else None)
    item_file = inter.with_suffix(".item")
    if not item_file.exists():
        return RawData(events, None, inter, None, [inter], has_time=has_time)
    catalogue, fields, separators = _read_items(item_file, encoding)
    return RawData(events, catalogue, inter, item_file, [inter, item_file], has_time=has_time,
                   text_fields=fields, category_separators=separators)


def _find_inter(path: Path) -> Path:
    if path.is_file():
        return path
    if not path.is_dir():
        raise DataError(path, "folder not found", fix="set data.path= to the RecBole folder")
    named = path / f"{path.resolve().name}.inter"
    if named.exists():
        return named
    found = sorted(path.glob("*.inter"))
    if len(found) != 1:
        listed = ", ".join(p.name for p in found) or "none"
        raise DataError(path, f"expected {named.name} or a single .inter file, found: {listed}",
                        fix="set data.path= to the .inter file itself")
    return found[0]


def read_atomic(path: Path, encoding: str | None) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read a tab-separated atomic file, splitting its `name:type` header.

    Returns:
        The table with plain names as columns (index: line numbers), and name -> type.
    """
    df = read_table(path, sep="\t", encoding=encoding, sep_key=None)
    names = [str(c).split(":", 1)[0] for c in df.columns]
    types = [str(c).split(":", 1)[1] if ":" in str(c) else "token" for c in df.columns]
    if len(set(names)) != len(names):
        repeated = next(n for n in names if names.count(n) > 1)
        raise DataError(path, f"field '{repeated}' appears twice in the header", row=1)
    df.columns = names
    return df, dict(zip(names, types))


def _read_items(path: Path, encoding: str | None) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """The catalogue, its text fields, and each field's value separator (token_seq: a space,
    as RecBole splits them; token: "" = one value)."""
    df, types = read_atomic(path, encoding)
    require_columns(df, path, {"item_id field": ITEM_ID})
    item = ids(df[ITEM_ID], path, ITEM_ID)
    unique_ids(item, path, ITEM_ID)
    fields = [c for c in df.columns if c != ITEM_ID and types[c] in TEXT_TYPES]
    separators = {c: " " if types[c] == "token_seq" else "" for c in fields}
    return items_frame(item, df[fields]), fields, separators
