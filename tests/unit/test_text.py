"""Item text: joined fields or a template, and the count of items with nothing to say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dynrec_cli.data.text import build_item_text
from dynrec_cli.errors import ConfigError


@pytest.fixture
def items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": ["a", "b", "c", "d"],
            "title": ["Toy Story", " Heat ", "", np.nan],
            "year": ["1995", "", "2001", ""],
            "genres": ["Animation|Comedy", "Crime", "", None],
        }
    )


def test_fields_are_joined_skipping_empty_ones(items: pd.DataFrame) -> None:
    text, stats = build_item_text(items, ["title", "genres"], None)
    assert list(text) == ["Toy Story. Animation|Comedy", "Heat. Crime", "", ""]
    assert stats["items_without_text"] == 2
    assert stats["mean_chars"] == pytest.approx((27 + 11) / 4)


def test_template_formats_each_row(items: pd.DataFrame) -> None:
    text, stats = build_item_text(items, [], "{title} ({year}). Genres: {genres}.")
    assert text[0] == "Toy Story (1995). Genres: Animation|Comedy."
    assert text[1] == "Heat (). Genres: Crime."
    assert text[2] == "(2001). Genres: ."
    # Every template field empty: no text rather than bare punctuation.
    assert text[3] == ""
    assert stats["items_without_text"] == 1


def test_unknown_template_field_lists_the_available_ones(items: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"'plot'.*available fields: title, year, genres"):
        build_item_text(items, [], "{title}: {plot}")
    with pytest.raises(ConfigError, match="available fields"):
        build_item_text(items, ["title", "plot"], None)
