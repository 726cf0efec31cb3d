"""Timestamps read and compared at the resolution they have (int64 nanoseconds), checks included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynrec_cli.capture.drift import drift_over_time
from dynrec_cli.data.clock import NS_PER_S, from_seconds
from dynrec_cli.data.readers.timeparse import parse_time
from dynrec_cli.data.split import resolve_cutoff
from dynrec_cli.errors import DataError
from dynrec_cli.ranking.features import freshness

T = 1_600_000_360 * NS_PER_S


def parse(values: list | pd.Series) -> list[int]:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return parse_time(series, Path("log.csv"), "ts", np.arange(2, len(series) + 2)).tolist()


@pytest.mark.parametrize("values", [
    ["1600000360900", "1600000360100"],  # milliseconds
    ["1600000360900000", "1600000360100000"],  # microseconds
    ["1600000360900000000", "1600000360100000000"],  # nanoseconds
    ["1600000360.9", " 1600000360.100 "],  # fractional seconds, spaces around
    ["2020-09-13T12:32:40.9Z", "2020-09-13T12:32:40.100+00:00"],  # ISO 8601 with fractions
    [1600000360900, 1600000360100],  # an int64 column (Parquet)
    [1600000360.9, 1600000360.1],  # a float64 column: read to the microsecond
])
def test_every_resolution_reads_to_the_same_nanoseconds(values: list) -> None:
    assert parse(values) == [T + 900_000_000, T + 100_000_000]


def test_the_finest_digits_are_kept() -> None:
    assert parse(["1600000360.000000001", "1600000360.000000002"]) == [T + 1, T + 2]
    assert parse(["1600000360000001", "1600000360000002"]) == [T + 1000, T + 2000]
    assert parse(pd.Series(["1600000360000000001", "1600000360000000002"], dtype="string[pyarrow]")) == [T + 1, T + 2]
    assert parse(["2020-09-13T12:32:40.000000001Z"]) == [T + 1]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_datetime_columns_of_any_unit(unit: str) -> None:
    stamps = pd.Series(pd.to_datetime([T + 123_000_000_000, T], unit="ns")).astype(f"datetime64[{unit}]")
    assert parse(stamps) == [T + 123 * NS_PER_S, T]


@pytest.mark.parametrize(("values", "row", "words"), [
    (["1600000360000000000"] * 3 + ["1600000360000000"], 5, "looks like microseconds, unlike most of the column (mixed microseconds and nanoseconds)"),
    (["1600000360.5", "1600000360500"], 3, "mixed seconds and milliseconds"),
    (["1600000360000000000", "4102444800000000000"], 3, "in the future"),
    (["4102444800.5"], 2, "in the future"),
    (["1600000360000", "-1600000360000"], 3, "negative timestamp -1600000360000"),
    (["2100-01-01T00:00:00.5Z"], 2, "in the future"),
])
def test_checks_hold_at_full_resolution(values: list[str], row: int, words: str) -> None:
    with pytest.raises(DataError) as info:
        parse(values)
    assert info.value.row == row and words in str(info.value)


def test_cutoffs_are_exact_in_nanoseconds() -> None:
    assert from_seconds(1600000360.4) == T + 400_000_000
    assert from_seconds(1600000360) == T
    times = np.array([T, T + 1, T + 2, T + 3])
    # the 0.5 quantile lies halfway between T + 1 and T + 2: rounded up to T + 2, never to a float's 256 ns
    assert resolve_cutoff(times, 0.5, "data.temporal.test") == T + 2
    assert resolve_cutoff(times, 1 / 3, "data.temporal.test") == T + 1


def test_drift_periods_cut_on_exact_times() -> None:
    events = pd.DataFrame({"time": [T, T + 1, T + 2], "drift": [0.1, 0.2, 0.3]})
    summary = drift_over_time(events, 2)  # the edge is T + 1: one event before it, two from it on
    assert summary["events"].tolist() == [1, 2] and summary["start"].tolist() == [T, T + 1]


def test_freshness_of_items_a_fraction_of_a_second_apart() -> None:
    events = pd.DataFrame({"item_idx": [1, 2, 3], "time": [T, T + 500_000_000, T + 1_000_000_000]})
    fresh = freshness(events, 3, "last", half_life_days=1 / 86_400)  # a half-life of one second
    assert fresh[1:].tolist() == pytest.approx([0.5, 0.5**0.5, 1.0])
