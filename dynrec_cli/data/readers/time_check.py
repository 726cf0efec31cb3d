"""A time column that cannot be a clock: a step or row counter read as unix seconds would put every
event in January 1970, one second apart, and the time gaps, periods and freshness computed from
it would be fiction. Such a column is refused, pointing at `data.columns.time=null` (order-only
logs); a column whose every value falls before 1973 as unix seconds is warned about.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli.data.clock import NS_PER_S
from dynrec_cli.errors import DataError

log = logging.getLogger(__name__)
# unix seconds below this are before 1973-03-03: no behaviour log a recommender reads starts there,
# but relative times (seconds since a study began) do, so only a warning
CLOCK_FROM = 100_000_000
MIN_EVENTS = 10  # fewer events tell a counter from a clock too weakly to refuse them
ORDER_ONLY = ("if the rows are in time order, set data.columns.time=null: the file's order is then the time order; "
              "if not, sort the file by user and this column first")


def check_time_column(times: np.ndarray, users: pd.Categorical | pd.Series, path: Path, column: str, rows: np.ndarray) -> None:
    """Refuse a per-user step counter (each user's times are 0, 1, 2, ... or 1, 2, 3, ...) or a row
    counter (the events numbered from 0 or 1, one number each), and warn about times before 1973.

    Args:
        times: (n,) int64 unix nanoseconds as parsed (data/clock.py).
        users: (n,) the user of each event (any dtype), aligned with `times`.
        path, column: the file and the time column, for the message.
        rows: (n,) each event's line number in the file.

    Raises:
        DataError: the column counts events instead of timing them.
    """
    if not len(times) or int(times.max()) >= CLOCK_FROM * NS_PER_S:
        return
    if (times % NS_PER_S == 0).all():  # whole seconds: a counter read as seconds looks like this
        _refuse_counters(times // NS_PER_S, users, path, column, rows)
    log.warning("%s, column '%s': every timestamp falls before 1973-03-03 as unix seconds (largest %s s); time gaps, periods "
                "and freshness are computed from them as seconds; if the column counts steps or positions, %s",
                path, column, f"{int(times.max()) / NS_PER_S:g}", ORDER_ONLY)


def _refuse_counters(times: np.ndarray, users: pd.Categorical | pd.Series, path: Path, column: str, rows: np.ndarray) -> None:
    """DataError when `times` (whole seconds) count each user's events, or number the rows."""
    if len(times) < MIN_EVENTS:  # a handful of small numbers can be either
        return
    codes = pd.factorize(users)[0]
    order = np.lexsort((times, codes))
    ordered, same_user = times[order], codes[order][1:] == codes[order][:-1]
    steps, firsts = np.diff(ordered)[same_user], ordered[np.r_[True, ~same_user]]
    counter = None
    if len(steps) and (steps == 1).all() and (firsts <= 1).all():
        counter = f"counts each user's events ({', '.join(map(str, ordered[: min(3, len(ordered))]))}, ...)"
    elif int(times.min()) <= 1 and len(np.unique(times)) == len(times) and int(times.max()) - int(times.min()) == len(times) - 1:
        counter = f"numbers the rows ({int(times.min())} to {int(times.max())})"
    if counter is not None:
        raise DataError(path, f"the time column {counter}, it is not a clock: read as unix seconds, every event would "
                        "fall in January 1970, one second apart", row=int(rows[order[0]]), column=column, fix=ORDER_ONLY)
