"""The JSON path reads ids by the same rules as a file's reader (`frames.ids`), value by value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dynrec_cli.data.readers.frames import ids
from dynrec_cli.errors import DataError
from dynrec_cli.serving.inbound import Invalid, identifier


@pytest.mark.parametrize("value", [" 12 ", 12, 12.0, 7.5, "a b", "x.0", "NaN", "null", "None", "<NA>", "", "   ", "Ünïcode"])
def test_identifier_agrees_with_the_readers_ids(value) -> None:
    try:
        expected = ids(pd.Series([value]), Path("f"), "c").iloc[0]
    except DataError as exc:
        with pytest.raises(Invalid) as refused:
            identifier(value, "events[0].user_id")
        assert str(exc).split(": ", 1)[1].split(" (")[0] in str(refused.value)
        return
    assert identifier(value, "events[0].user_id") == expected
