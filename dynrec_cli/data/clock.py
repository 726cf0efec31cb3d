"""Time inside dynrec: int64 nanoseconds since the Unix epoch (UTC), exact at every resolution.

Readers turn every timestamp (seconds, milliseconds, microseconds, nanoseconds, fractions,
dates, Parquet timestamps) into this, and everything that compares time (sorting, splits,
capture order, replay, freshness, the models' time-gap features) compares these integers:
events a millisecond apart stay in their order. float64 seconds would not do: at today's dates
their step is about 0.24 µs.

A log without time (sequence formats, `data.columns.time=null`) stores each event's position
as that many seconds, so order and the models' gap features (one step = one second) read it
like a clock.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S


def positions(n: int | np.ndarray) -> np.ndarray:
    """Times of events known only by their order: position p (0, 1, ...) is p seconds."""
    steps = np.arange(n, dtype=np.int64) if np.isscalar(n) else np.asarray(n, dtype=np.int64)
    return steps * NS_PER_S


def seconds(ns: np.ndarray | int) -> np.ndarray | float:
    """Nanoseconds as float seconds, for plots and features (not for comparing events)."""
    return np.asarray(ns, dtype=np.int64) / NS_PER_S


def from_seconds(value: float | int) -> int:
    """A time given in unix seconds (a config value such as `data.temporal.test=1600000360.5`) in
    nanoseconds, read from its shortest decimal form and rounded up: an event is at or after
    `value` exactly when its time is at or after the result."""
    return math.ceil(Decimal(repr(value) if isinstance(value, float) else int(value)) * NS_PER_S)


def iso(ns: int | float) -> str:
    """An instant as ISO 8601 (UTC, fraction only when there is one), for messages."""
    try:
        return pd.Timestamp(int(ns), unit="ns").isoformat()
    except (OverflowError, ValueError):
        return str(ns)
