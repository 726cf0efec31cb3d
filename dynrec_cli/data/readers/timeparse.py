"""Turn a timestamp column (unix seconds, ms, µs or ns, with or without a fraction, or dates)
into int64 unix nanoseconds, exactly (see `dynrec_cli.data.clock`)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli.data.clock import NS_PER_S
from dynrec_cli.data.readers.arrow_csv import exact_decimals
from dynrec_cli.errors import DataError

# Unix seconds pass 1e11 only in the year 5138, so larger numbers are milliseconds, past 1e14
# microseconds, past 1e17 nanoseconds: each unit covers the same dates, 1973 to 5138.
UNIT_LIMITS = np.array([1e11, 1e14, 1e17])
UNITS = ("seconds", "milliseconds", "microseconds", "nanoseconds")
EPOCH = pd.Timestamp(0, tz="UTC")
# Events may be stamped by clocks a little ahead of ours; more than a day ahead is an error.
FUTURE_SLACK_S = 86_400
# Builds the DataError for the first value where a mask is true: fail(mask, problem, fix=None).
Fail = Callable[..., DataError]
UNREADABLE = "cannot read timestamp '{value}' as a number or a date"
DATE_FIX = "use unix seconds or ISO 8601, e.g. 2016-10-17 14:03:00"
FUTURE = "timestamp '{value}' is in the future"
FUTURE_FIX = "check the clock and the unit that wrote it"


def parse_time(
    values: pd.Series, path: Path, column: str, rows: pd.Series | np.ndarray
) -> np.ndarray:
    """Parse timestamps to int64 unix nanoseconds, keeping the resolution the data has.

    Numbers are unix seconds, milliseconds, microseconds or nanoseconds, told apart by size
    (above 1e11, 1e14, 1e17); one column holds one unit. Written numbers are read exactly,
    fraction digits included (`1600000360.9001` s, `1600000360900.5` ms); float numbers (a
    Parquet double column) to the microsecond, the most a float64 holds at today's dates.
    Strings that are not numbers are read as dates: ISO 8601 first (fractions kept), then the
    other dates with ONE format for the whole column (inferred from its first such date;
    day-first and month-first are both tried and one is accepted only if it reads every date),
    so `21/06/1996` and `09/01/1995` are never read in different orders. Dates without a time
    zone are taken as UTC; datetime columns (Parquet timestamps of any unit) keep their unit.

    Args:
        values: the column, as str, numbers or datetimes.
        path: the file, for messages.
        column: the column name, for messages.
        rows: each value's line number in the file, aligned with `values`.

    Returns:
        (n,) int64 unix nanoseconds.

    Raises:
        DataError: empty, negative, future or unparsable value, a mix of units, or dates whose
            day/month order is ambiguous or not the same on every row.
    """
    rows = np.asarray(rows)

    def fail(mask: np.ndarray, problem: str, fix: str | None = None) -> DataError:
        first = int(np.argmax(mask))
        return DataError(path, problem.format(value=values.iloc[first]), row=int(rows[first]),
                         column=column, fix=fix)

    if pd.api.types.is_datetime64_any_dtype(values):
        return _date_ns(pd.to_datetime(values, utc=True), fail)
    if pd.api.types.is_integer_dtype(values) and not values.isna().any():
        whole = values.to_numpy(dtype=np.int64)
        return _exact_ns(whole, np.zeros(len(whole), dtype=np.int64), fail)
    if pd.api.types.is_numeric_dtype(values):
        return _float_ns(values.to_numpy(dtype=float), fail)
    if (parts := exact_decimals(values)) is not None:  # plain numbers, exactly and in C
        return _exact_ns(*parts, fail)
    text = values.astype(str).str.strip()
    empty = (text == "").to_numpy() | values.isna().to_numpy()
    if empty.any():
        raise fail(empty, "empty timestamp")
    try:  # numbers with a sign or an exponent; a cast is ~3x faster than to_numeric
        numbers = text.astype(float).to_numpy()
    except ValueError:
        numbers = None
    if numbers is not None:
        return _float_ns(numbers, fail)
    is_number = pd.to_numeric(text, errors="coerce").notna().to_numpy()
    if is_number.any():  # a mix: blame the minority, as with seconds and milliseconds
        if is_number.sum() <= (~is_number).sum():
            raise fail(is_number, "timestamp '{value}' is a number, unlike most of the column (dates)",
                       fix=DATE_FIX)
        raise fail(~is_number, "timestamp '{value}' is not a number like the others")
    return _date_ns(_parse_dates(text, fail), fail)


def _unit(magnitude: np.ndarray, fail: Fail) -> int:
    """The column's unit (index into UNITS) from the size of its numbers; zero fits any unit.

    Raises:
        DataError: at the first value of another unit than most of the column's.
    """
    unit = np.searchsorted(UNIT_LIMITS, magnitude, side="left")  # 1e11 itself is seconds
    positive = magnitude > 0
    counts = np.bincount(unit[positive], minlength=len(UNITS))
    major = int(np.argmax(counts))  # a tie goes to the smaller unit
    odd = positive & (unit != major)
    if odd.any():
        minor = int(unit[np.argmax(odd)])
        pair = " and ".join(UNITS[u] for u in sorted((major, minor)))
        raise fail(odd, f"timestamp {{value}} looks like {UNITS[minor]}, unlike most of the column (mixed {pair})",
                   fix="convert the column to one unit")
    return major


def _not_future(unix_seconds: np.ndarray, fail: Fail) -> None:
    """A timestamp after tomorrow is a clock or unit error (microseconds read as seconds...)."""
    future = unix_seconds > time.time() + FUTURE_SLACK_S
    if future.any():
        raise fail(future, FUTURE, fix=FUTURE_FIX)


def _exact_ns(whole: np.ndarray, billionths: np.ndarray, fail: Fail) -> np.ndarray:
    """Nanoseconds of numbers given exactly: whole part and fraction (billionths of one unit)."""
    if (whole < 0).any():
        raise fail(whole < 0, "negative timestamp {value}")
    magnitude = whole + billionths / 1e9  # only to tell the unit and the future: float is enough
    unit = _unit(magnitude, fail)
    _not_future(magnitude / 10.0 ** (3 * unit), fail)
    # after the future check every value fits int64 nanoseconds (until the year 2262)
    per_unit = NS_PER_S // 10 ** (3 * unit)
    return whole * per_unit + billionths // (NS_PER_S // per_unit)


def _float_ns(numbers: np.ndarray, fail: Fail) -> np.ndarray:
    """Nanoseconds of float numbers, to the microsecond (nanoseconds as they are)."""
    if not np.isfinite(numbers).all():
        raise fail(~np.isfinite(numbers), "timestamp '{value}' is not a finite number")
    if (numbers < 0).any():
        raise fail(numbers < 0, "negative timestamp {value}")
    unit = _unit(numbers, fail)
    _not_future(numbers / 10.0 ** (3 * unit), fail)
    if unit == len(UNITS) - 1:
        return np.round(numbers).astype(np.int64)
    # a float64 near 1.6e9 s steps by 0.24 µs: what it holds beyond the microsecond is noise
    return np.round(numbers * 10.0 ** (6 - 3 * unit)).astype(np.int64) * 1000


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


def _date_ns(dates: pd.Series, fail: Fail) -> np.ndarray:
    bad = dates.isna().to_numpy()
    if bad.any():
        raise fail(bad, UNREADABLE, fix=DATE_FIX)
    future = (dates > pd.Timestamp.now(tz="UTC") + pd.Timedelta(seconds=FUTURE_SLACK_S)).to_numpy()
    if future.any():
        raise fail(future, FUTURE, fix=FUTURE_FIX)
    return (dates.dt.as_unit("ns") - EPOCH).to_numpy().astype("timedelta64[ns]").view(np.int64)
