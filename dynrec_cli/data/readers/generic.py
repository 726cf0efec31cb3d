"""Read any interaction log (CSV, TSV, Parquet) with an optional item catalogue."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dynrec_cli.data.clock import positions
from dynrec_cli.data.readers.time_check import check_time_column
from dynrec_cli.data.readers.frames import events_frame, id_categories, ids, items_frame, ratings, unique_ids
from dynrec_cli.data.readers.tables import read_table, require_columns
from dynrec_cli.data.readers.timeparse import parse_time
from dynrec_cli.data.types import RawData
from dynrec_cli.errors import ConfigError

ROLES = ("user", "item", "time", "rating", "event")


def read_csv_log(
    interactions: Path,
    items: Path | None,
    columns: dict[str, str | None],
    item_id_column: str | None,
    text_fields: list[str] | None,
    sep: str | None,
    encoding: str | None,
    items_sep: str | None = None,
    columns_fix: str | None = None,
) -> RawData:
    """Read an interaction log and its catalogue, mapping their columns to RawData's roles.

    Args:
        interactions: the log, one event per row.
        items: the catalogue (one row per item), or None.
        columns: role (user, item, time, rating, event) -> column name; user and item are
            required, the others may be None. Without time, file order stands in for it.
        item_id_column: the catalogue's id column; None means columns['item'] if the catalogue
            has it, else `item_id`.
        text_fields: catalogue columns to describe items with; None means every text column
            other than the id.
        sep: the log's field separator; None picks it from the extension.
        encoding: text encoding for both files; None means UTF-8.
        items_sep: the catalogue's field separator; None means `sep`.
        columns_fix: the advice for a column the log lacks; None suggests a data.columns key.

    Raises:
        ConfigError: user or item column not set.
        DataError: missing file or column, or a bad id, timestamp or rating.
    """
    for role in ("user", "item"):
        if not columns.get(role):
            raise ConfigError(f"data.columns.{role} must name a column of {interactions}")
    df = read_table(interactions, sep=sep, encoding=encoding)
    require_columns(df, interactions, {f"data.columns.{r}": columns.get(r) for r in ROLES}, columns_fix)
    user = id_categories(df[columns["user"]], interactions, columns["user"])
    item = id_categories(df[columns["item"]], interactions, columns["item"])
    rows = df.index.to_numpy()
    time_col, rating_col, event_col = (columns.get(r) for r in ("time", "rating", "event"))
    time = (parse_time(df[time_col], interactions, time_col, rows) if time_col
            else positions(len(df)))
    if time_col:
        check_time_column(time, user, interactions, time_col, rows)
    events = events_frame(
        user, item, time, rows,
        rating=ratings(df[rating_col], interactions, rating_col) if rating_col else None,
        event=df[event_col] if event_col else None,
    )
    catalogue, fields = (None, []) if items is None else read_catalogue(
        items, item_id_column or columns["item"], item_id_column is not None, text_fields,
        items_sep or sep, encoding)
    return RawData(events=events, items=catalogue, events_path=interactions, items_path=items,
                   sources=[interactions] + ([items] if items is not None else []),
                   has_time=bool(time_col), text_fields=fields)


def read_catalogue(
    path: Path,
    id_column: str,
    explicit: bool,
    text_fields: list[str] | None,
    sep: str | None,
    encoding: str | None,
    key: str = "data.item_id_column",
) -> tuple[pd.DataFrame, list[str]]:
    """Read an item catalogue.

    Args:
        path: the catalogue file.
        id_column: its id column; unless `explicit`, `item_id` is tried when it is absent.
        explicit: whether the config named `id_column` (then it must exist).
        text_fields: the text columns to keep; None means every string column but the id.
        sep: field separator (data.items_sep, else data.sep); None picks it from the extension.
        encoding: text encoding; None means UTF-8.
        key: the option that names the id column, for the error on a missing one.

    Returns:
        RawData's items frame and its text fields.
    """
    df = read_table(path, sep=sep, encoding=encoding, sep_key="data.items_sep")
    if not explicit and id_column not in df.columns:
        id_column = "item_id"
    require_columns(df, path, {key: id_column})
    if text_fields is None:
        text_fields = [c for c in df.columns if c != id_column and _is_text(df[c])]
    for field in text_fields:
        require_columns(df, path, {"data.text_fields": field})
    item = ids(df[id_column], path, id_column)
    unique_ids(item, path, id_column)
    return items_frame(item, df[text_fields]), list(text_fields)


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values)
