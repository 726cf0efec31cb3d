"""Build the event and catalogue frames every reader returns, checking ids and ratings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli.data.types import EVENT, ITEM, RATING, ROW, TIME, USER
from dynrec_cli.errors import DataError

MISSING_WORDS = ("nan", "null", "none", "<na>", "nat")


def ids(values: pd.Series, path: Path, column: str) -> pd.Series:
    """Ids as stripped str; whole floats (from Parquet) lose their `.0`.

    Args:
        values: the id column; its index holds line numbers.
        path: the file, for messages.
        column: the column name, for messages.

    Raises:
        DataError: at the first empty or missing id, or a list (a Parquet list column).
    """
    _refuse_nested(values, path, column)
    values = _decoded(values, path, column)
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    missing = values.isna()
    out = values.astype(str).str.strip().where(~missing, "")
    empty = (out == "").to_numpy()
    if empty.any():
        line = int(values.index[np.argmax(empty)])
        raise DataError(path, "empty or missing id", row=line, column=column)
    # what pandas, R or SQL write for a missing value: an id like this is a lost one, not a name
    lost = out.str.lower().isin(MISSING_WORDS).to_numpy()
    if lost.any():
        first = int(np.argmax(lost))
        raise DataError(path, f"id '{out.iloc[first]}' is a missing-value marker, not an id",
                        row=int(values.index[first]), column=column, fix="drop or repair the row")
    return out


def id_categories(values: pd.Series, path: Path, column: str) -> pd.Categorical:
    """`ids` as a categorical (sorted categories), checked once per distinct value, not per row.

    Distinct values are taken in order of first appearance, each indexed by its first line, so
    `ids` names the same first bad line as on the whole column.
    """
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    except TypeError:  # unhashable values: lists or structs from Parquet
        _refuse_nested(values, path, column)
        raise
    first = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy())  # where each distinct value starts
    names = ids(pd.Series(uniques, index=values.index[first]), path, column)
    order, categories = pd.factorize(names, sort=True)  # stripping may merge two raw values
    return pd.Categorical.from_codes(order[codes], categories=categories)


def _refuse_nested(values: pd.Series, path: Path, column: str) -> None:
    """An id is one value: a column of lists, arrays or structs (Parquet's nested types) is refused."""
    if not pd.api.types.is_object_dtype(values):
        return
    nested = values.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))).to_numpy(dtype=bool)
    if nested.any():
        first = int(np.argmax(nested))
        value = values.iloc[first]
        kind = "struct" if isinstance(value, dict) else "list"
        shown = list(value.items() if isinstance(value, dict) else value)[:3]
        raise DataError(path, f"the id column holds {kind}s ({type(value).__name__}, e.g. {shown}), not single ids",
                        row=int(values.index[first]), column=column,
                        fix="give one id per row: explode or join the lists before dynrec reads them")


def _decoded(values: pd.Series, path: Path, column: str) -> pd.Series:
    """A Parquet binary column's ids as text: UTF-8, or refused at the first id that is not."""
    if not pd.api.types.is_object_dtype(values) or not values.map(lambda v: isinstance(v, bytes)).any():
        return values
    out = []
    for line, value in values.items():
        try:
            out.append(value.decode("utf-8") if isinstance(value, bytes) else value)
        except UnicodeDecodeError as exc:
            raise DataError(path, f"id {value!r:.40} is bytes that are not UTF-8 text ({exc.reason} at byte {exc.start})",
                            row=int(line), column=column, fix="store ids as UTF-8 text or integers") from None
    return pd.Series(out, index=values.index, dtype=object)


def ratings(values: pd.Series, path: Path, column: str) -> np.ndarray:
    """Ratings as float64.

    Raises:
        DataError: at the first value that is not a number.
    """
    out = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(out)
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(path, f"rating '{values.iloc[first]}' is not a number",
                        row=int(values.index[first]), column=column)
    return out


def events_frame(
    user: pd.Series | pd.Categorical,
    item: pd.Series | pd.Categorical,
    time: np.ndarray,
    rows: np.ndarray,
    rating: np.ndarray | None = None,
    event: pd.Series | None = None,
) -> pd.DataFrame:
    """The raw event table of RawData: user, item (str), time (int64), [rating], [event], row.

    user, item and event are categoricals (categories sorted as str): one small code per event
    instead of a Python string, which is what lets a 10M-event log fit in a few GiB. Sorting
    and grouping by them gives the order of the str values.
    """
    columns = {USER: _categorical(user), ITEM: _categorical(item),
               TIME: np.asarray(time, dtype=np.int64)}
    if rating is not None:
        columns[RATING] = np.asarray(rating, dtype=float)
    if event is not None:
        columns[EVENT] = _categorical(event.astype(object).fillna("").astype(str).str.strip())
    columns[ROW] = np.asarray(rows, dtype=np.int64)
    return pd.DataFrame(columns)


def _categorical(values: pd.Series | np.ndarray) -> pd.Categorical:
    """Str values as a categorical with sorted categories (a Series' Arrow strings never become
    Python objects on the way)."""
    if isinstance(values, pd.Categorical):
        return values
    if isinstance(values, pd.Series):
        return pd.Categorical(values.astype(str))
    return pd.Categorical(np.asarray(values, dtype=object))


def items_frame(item: pd.Series, text: pd.DataFrame) -> pd.DataFrame:
    """The catalogue of RawData: column `item` plus `text`'s columns as str ("" for missing)."""
    out = pd.DataFrame({ITEM: np.asarray(item, dtype=object)})
    for name in text.columns:
        out[name] = np.asarray(text[name].astype(object).where(text[name].notna(), "")
                               .astype(str), dtype=object)
    return out


def unique_ids(values: pd.Series, path: Path, column: str) -> None:
    """Check that ids (of a catalogue, or users of a one-line-per-user file) are unique.

    Raises:
        DataError: naming both lines of the first repeated id.
    """
    repeated = values.duplicated(keep=False).to_numpy()
    if repeated.any():
        value = values.iloc[int(np.argmax(repeated))]
        first, second = values.index[(values == value).to_numpy()][:2]
        raise DataError(path, f"id '{value}' appears twice, on rows {first} and {second}",
                        row=int(second), column=column, fix="keep one row per id")
