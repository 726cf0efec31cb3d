"""Pick the reader for `data.format`: a generic log (`csv`) or a known dataset layout."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dynrec_cli.data.readers.generic import read_csv_log
from dynrec_cli.data.readers.movielens import read_movielens
from dynrec_cli.data.readers.recbole import read_recbole
from dynrec_cli.data.readers.sequences import read_sequences, read_unisrec
from dynrec_cli.data.types import RawData
from dynrec_cli.errors import ConfigError

__all__ = ["read_dataset", "read_movielens", "read_recbole", "read_sequences", "read_unisrec"]

# Readers of whole dataset folders: path, encoding -> RawData.
PRESETS: dict[str, Callable[..., RawData]] = {
    "movielens": read_movielens,
    "recbole": read_recbole,
    "sequences": read_sequences,
    "unisrec": read_unisrec,
}
FORMATS = ["csv", *PRESETS]


def read_dataset(
    format: str,
    path: str | Path | None,
    interactions: str | Path | None,
    items: str | Path | None,
    columns: Mapping[str, str | None],
    item_id_column: str | None,
    text_fields: Sequence[str] | None,
    sep: str | None,
    encoding: str | None,
    items_sep: str | None = None,
) -> RawData:
    """Read the dataset the `data` config describes.

    Args:
        format: `csv` (any log, mapped by `columns`) or a preset: movielens, recbole,
            sequences, unisrec.
        path: a preset's folder (or file); unused by `csv`.
        interactions: the `csv` log file.
        items: the `csv` catalogue file, or None.
        columns: `csv` role -> column name (user, item, time, rating, event).
        item_id_column: the `csv` catalogue's id column, or None for the default.
        text_fields: catalogue columns to describe items with, in order; None keeps the
            reader's choice. Presets check that they exist.
        sep: `csv` field separator, or None to go by extension.
        items_sep: the `csv` catalogue's separator; None means `sep`.
        encoding: text encoding, or None for the format's default.

    Raises:
        ConfigError: unknown format, a missing path, or text fields the catalogue lacks.
        DataError: bad files (see each reader).
    """
    fields = list(text_fields) if text_fields is not None else None
    if format == "csv":
        if not interactions:
            raise ConfigError("data.format=csv needs the log file: set data.interactions=<file>")
        return read_csv_log(Path(interactions).expanduser(),
                            Path(items).expanduser() if items else None, dict(columns),
                            item_id_column, fields, sep, encoding, items_sep)
    if format not in PRESETS:
        raise ConfigError(f"data.format={format!r} is not one of: {', '.join(FORMATS)}")
    if not path:
        raise ConfigError(f"data.format={format} needs its folder: set data.path=<folder>")
    raw = PRESETS[format](Path(path).expanduser(), encoding=encoding)
    return raw if fields is None else _choose_fields(raw, fields, format)


def _choose_fields(raw: RawData, fields: list[str], format: str) -> RawData:
    have = [] if raw.items is None else [c for c in raw.items.columns if c != "item"]
    missing = [f for f in fields if f not in have]
    if missing:
        raise ConfigError(f"data.text_fields: {', '.join(missing)} not in the {format} catalogue; "
                          f"it has: {', '.join(have) or 'no item text'}")
    raw.text_fields = fields
    return raw
