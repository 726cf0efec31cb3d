"""A column of dates with a stray number (or numbers with a stray date) names the odd row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dynrec_cli.data.readers.timeparse import parse_time
from dynrec_cli.errors import DataError


def error_row(values: list[str]) -> DataError:
    rows = pd.Series(range(2, len(values) + 2))
    with pytest.raises(DataError) as info:
        parse_time(pd.Series(values), Path("log.csv"), "timestamp", rows)
    return info.value


def test_one_number_among_dates_is_the_row_named() -> None:
    values = ["2017-07-14 04:51:40"] * 9
    values[4] = "1700000000"
    err = error_row(values)
    assert err.row == 6 and "'1700000000' is a number" in str(err) and "ISO 8601" in str(err)


def test_one_date_among_numbers_is_the_row_named() -> None:
    values = ["1700000000"] * 9
    values[6] = "2017-07-14 04:51:40"
    err = error_row(values)
    assert err.row == 8 and "is not a number like the others" in str(err)
