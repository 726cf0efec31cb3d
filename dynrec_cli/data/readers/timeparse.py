"""Turn a timestamp column (unix seconds or milliseconds, or date strings) into unix seconds."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli.data.readers.arrow_csv import arrow_floats
from dynrec_cli.errors import DataError

# Unix seconds pass 1e11 only in the year 5138, so larger numbers are milliseconds; past 1e14
# milliseconds they would be microseconds or nanoseconds, which we do not guess.
MS_THRESHOLD = 1e11
MS_LIMIT = 1e14
EPOCH = pd.Timestamp(0, tz="UTC")
# Events may be stamped by clocks a little ahead of ours; more than a day ahead is an error.
FUTURE_SLACK_S = 86_400
# Builds the DataError for the first value where a mask is true: fail(mask, problem, fix=None).
Fail = Callable[..., DataError]
UNREADABLE = "cannot read timestamp '{value}' as a number or a date"
DATE_FIX = "use unix seconds or ISO 8601, e.g. 2016-10-17 14:03:00"


def parse_time(
    values: pd.Series, path: Path, column: str, rows: pd.Series | np.ndarray
) -> np.ndarray:
    """Parse timestamps to int64 unix seconds.

    Numbers are unix seconds, or milliseconds when every one of them is above 1e11. Strings
    that are not numbers are read as dates: ISO 8601 first, then the other dates with ONE format
    for the whole column (inferred from its first such date; day-first and month-first are both
    tried and one is accepted only if it reads every date), so `21/06/1996` and `09/01/1995` are
    never read in different orders. Dates without a time zone are taken as UTC.

    Args:
        values: the column, as str, numbers or datetimes.
        path: the file, for messages.
        column: the column name, for messages.
        rows: each value's line number in the file, aligned with `values`.

    Returns:
        (n,) int64 unix seconds.

    Raises:
        DataError: empty, negative or unparsable value, a mix of seconds and milliseconds, or
            dates whose day/month order is ambiguous or not the same on every row.
    """
    rows = np.asarray(rows)

    def fail(mask: np.ndarray, problem: str, fix: str | None = None) -> DataError:
        first = int(np.argmax(mask))
        return DataError(path, problem.format(value=values.iloc[first]), row=int(rows[first]),
                         column=column, fix=fix)

    if pd.api.types.is_datetime64_any_dtype(values):
        return _date_seconds(pd.to_datetime(values, utc=True), fail)
    if pd.api.types.is_numeric_dtype(values):
        return _number_seconds(values.to_numpy(dtype=float), fail)
    if (numbers := arrow_floats(values)) is not None:  # a large log's plain numbers, parsed in C
        return _number_seconds(numbers, fail)
    text = values.astype(str).str.strip()
    empty = (text == "").to_numpy() | values.isna().to_numpy()
    if empty.any():
        raise fail(empty, "empty timestamp")
    try:  # a cast is ~3x faster than to_numeric, which we only need to find the odd value
        numbers = text.astype(float).to_numpy()
    except ValueError:
        numbers = None
    if numbers is not None:
        return _number_seconds(numbers, fail)
    is_number = pd.to_numeric(text, errors="coerce").notna().to_numpy()
    if is_number.any():  # a mix: blame the minority, as with seconds and milliseconds
        if is_number.sum() <= (~is_number).sum():
            raise fail(is_number, "timestamp '{value}' is a number, unlike most of the column (dates)",
                       fix=DATE_FIX)
        raise fail(~is_number, "timestamp '{value}' is not a number like the others")
    return _date_seconds(_parse_dates(text, fail), fail)


def _number_seconds(numbers: np.ndarray, fail: Fail) -> np.ndarray:
    if not np.isfinite(numbers).all():
        raise fail(~np.isfinite(numbers), "timestamp '{value}' is not a finite number")
    if (numbers < 0).any():
        raise fail(numbers < 0, "negative timestamp {value}")
    if (numbers > MS_LIMIT).any():
        raise fail(numbers > MS_LIMIT, "timestamp {value} is too large for milliseconds",
                   fix="convert the column to unix seconds")
    millis = numbers > MS_THRESHOLD
    seconds = (numbers > 0) & ~millis
    if millis.any() and seconds.any():
        minority = millis if millis.sum() <= seconds.sum() else seconds
        unit = "milliseconds" if minority is millis else "seconds"
        raise fail(minority, "timestamp {value} looks like " + unit + ", unlike most of the "
                   "column (mixed seconds and milliseconds)", fix="convert the column to one unit")
    if millis.any():
        numbers = numbers / 1000.0
    return _not_future(np.floor(numbers).astype(np.int64), fail)


def _not_future(seconds: np.ndarray, fail: Fail) -> np.ndarray:
    """A timestamp after tomorrow is a clock or unit error (microseconds read as seconds...)."""
    future = seconds > time.time() + FUTURE_SLACK_S
    if future.any():
        raise fail(future, "timestamp '{value}' is in the future", fix="check the clock and the unit that wrote it")
    return seconds


def _parse_dates(text: pd.Series, fail: Fail) -> pd.Series:
    """ISO 8601 where it reads; every other date with one format for the whole column."""
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    retry = parsed.isna().to_numpy()
    if retry.any():
        parsed[retry] = _one_format(text[retry], retry, fail)
    return parsed


def _one_format(text: pd.Series, where: np.ndarray, fail: Fail) -> pd.Series:
    """Read non-ISO dates with a single format, never day-first on one row and month-first on another.

    The candidates are the formats of the first date read day-first and month-first; one is used
    only if it reads every date. Two that read every date but disagree somewhere (every day <= 12)
    leave the column ambiguous: refused. `where` maps `text` back into the column (for `fail`).
    """
    from pandas.tseries.api import guess_datetime_format

    def refuse(mask: np.ndarray, problem: str) -> DataError:
        spread = np.zeros(len(where), dtype=bool)
        spread[np.flatnonzero(where)[mask]] = True
        return fail(spread, problem, fix=DATE_FIX)

    first = str(text.iloc[0])
    with warnings.catch_warnings():  # "Parsing dates in %d/%m/%Y format when dayfirst=False ..."
        warnings.simplefilter("ignore", UserWarning)
        guesses = [guess_datetime_format(first, dayfirst=d) for d in (False, True)]
    candidates = list(dict.fromkeys(f for f in guesses if f is not None))
    if not candidates:  # not a layout with a format string (or no date at all): per value, but
        return _unordered(text, refuse)  # only where day-first and month-first agree
    readings = {fmt: pd.to_datetime(text, utc=True, format=fmt, errors="coerce") for fmt in candidates}
    complete = [fmt for fmt, dates in readings.items() if dates.notna().all()]
    if not complete:
        best = max(candidates, key=lambda fmt: int(readings[fmt].notna().sum()))
        missed = readings[best].isna().to_numpy()
        value = text.iloc[int(np.argmax(missed))]
        if pd.isna(pd.to_datetime(value, utc=True, format="mixed", errors="coerce")):
            raise refuse(missed, UNREADABLE)
        raise refuse(missed, "date '{value}' is not in the format of the column's other dates "
                             f"({best}, from '{_braces(first)}'): one column must use one date format")
    chosen = readings[complete[0]]
    for fmt in complete[1:]:
        differ = (readings[fmt] != chosen).to_numpy()
        if differ.any():
            raise refuse(differ, f"date '{{value}}' reads both as {_order(complete[0])} and as {_order(fmt)}, "
                                 "and no date of the column tells which (ambiguous day/month order)")
    return chosen


def _unordered(text: pd.Series, refuse: Callable[[np.ndarray, str], DataError]) -> pd.Series:
    """Dates without a format string: each read alone, refused where day-first changes the reading."""
    month_first = pd.to_datetime(text, utc=True, format="mixed", errors="coerce")
    bad = month_first.isna().to_numpy()
    if bad.any():
        raise refuse(bad, UNREADABLE)
    day_first = pd.to_datetime(text, utc=True, format="mixed", dayfirst=True, errors="coerce")
    differ = (day_first != month_first).to_numpy()
    if differ.any():
        raise refuse(differ, "date '{value}' reads differently day-first and month-first "
                             "(ambiguous day/month order)")
    return month_first


def _braces(text: str) -> str:
    """`text` kept as is by the str.format that fills in {value}."""
    return text.replace("{", "{{").replace("}", "}}")


def _order(fmt: str) -> str:
    """'day-first' / 'month-first' (or the format itself) for messages."""
    day, month = fmt.find("%d"), fmt.find("%m")
    if day < 0 or month < 0:
        return fmt
    return f"day-first ({fmt})" if day < month else f"month-first ({fmt})"


def _date_seconds(dates: pd.Series, fail: Fail) -> np.ndarray:
    bad = dates.isna().to_numpy()
    if bad.any():
        raise fail(bad, UNREADABLE, fix=DATE_FIX)
    return _not_future(((dates - EPOCH) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64), fail)
