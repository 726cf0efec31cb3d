"""The text a language model reads for each item, built from the catalogue's columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli.data.templates import template_fields
from dynrec_cli.errors import ConfigError, DataError

# Columns that identify an item rather than describe it.
_ID_COLUMNS = ("item", "item_id", "item_idx")


def build_item_text(
    items: pd.DataFrame, fields: list[str], template: str | None, source: str | Path | None = None
) -> tuple[pd.Series, dict[str, float]]:
    """Build one text per item.

    Without a template the non-empty `fields` are joined in order with ". ". With one, such as
    "{title} ({year}). Genres: {genres}.", each row is formatted; an item whose template
    fields are all empty gets "" rather than the template's bare punctuation.

    Args:
        items: the item table, one row per item, with text columns (NaN reads as empty).
        fields: the columns joined when there is no template.
        template: a `str.format` template naming columns, or None.
        source: the catalogue file, named in the error for a missing field.

    Returns:
        (n_items,) str texts aligned with `items`, and stats
        `{"items_without_text": int, "mean_chars": float}`.

    Raises:
        ConfigError: a field or template placeholder is not a column of `items`, or the
            template is not valid `str.format` syntax.
        DataError: a value the template cannot format (e.g. `{year:d}`: values are text).
    """
    names = template_fields(template) if template is not None else list(fields)
    _check_fields(items, names, "data.text_template" if template is not None else "data.text_fields", source)
    values = {name: _clean(items[name]) for name in names}
    if template is None:
        text = _join(values, items.index)
    else:
        rows = pd.DataFrame(values, index=items.index).to_dict("records")
        text = pd.Series([_format(template, row, items, i, source) for i, row in enumerate(rows)],
                         index=items.index, dtype=object)
        text = text.str.strip()
    if names:
        # A row with nothing to say gets "", not "(). Genres: ."
        empty = np.logical_and.reduce([(v == "").to_numpy() for v in values.values()])
        text = text.mask(empty, "")
    else:
        text = pd.Series("", index=items.index, dtype=object)
    lengths = text.str.len()
    stats = {
        "items_without_text": int((lengths == 0).sum()),
        "mean_chars": float(lengths.mean()) if len(text) else 0.0,
    }
    return text, stats


def _format(template: str, row: dict[str, str], items: pd.DataFrame, position: int,
            source: str | Path | None) -> str:
    """One item's text; a value the template cannot format names the template and the item."""
    try:
        return template.format(**row)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as err:
        id_column = next((c for c in ("item_id", "item") if c in items.columns), None)
        item = items[id_column].iloc[position] if id_column else position
        raise DataError(source or "the catalogue", f"data.text_template={template!r} cannot format "
                        f"item '{item}' ({type(err).__name__}: {err}); every value is text",
                        fix="name each field without a format spec, e.g. {year}") from None


def _check_fields(items: pd.DataFrame, names: list[str], what: str, source: str | Path | None) -> None:
    unknown = [name for name in names if name not in items.columns]
    if unknown:
        available = [c for c in items.columns if c not in _ID_COLUMNS]
        catalogue = f"the catalogue {source}" if source is not None else "the catalogue"
        raise ConfigError(
            f"{what} uses {unknown[0]!r}, which {catalogue} does not have; "
            f"available fields: {', '.join(map(str, available)) or '(none)'}"
        )


def _clean(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.strip()


def _join(values: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    text = pd.Series("", index=index, dtype=object)
    for value in values.values():  # loops over fields, not rows
        sep = np.where((text != "") & (value != ""), ". ", "")
        text = text + sep + value
    return text
