"""Named data types handed between the data steps and the stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# Column names of the raw event table every reader returns.
USER, ITEM, TIME, RATING, EVENT, ROW = "user", "item", "time", "rating", "event", "row"
# Split codes in the prepared event table.
TRAIN, VALID, TEST = 0, 1, 2


@dataclass
class RawData:
    """What a reader returns, before cleaning.

    Attributes:
        events: one row per event with columns `user`, `item` (both str), `time` (int64: unix
            nanoseconds, `dynrec_cli.data.clock`; for formats without time, the event's position
            as that many seconds), optional
            `rating` (float) and `event` (str), and `row` (int64: 1-based line number in the
            source file, for error messages).
        items: the catalogue, or None: column `item` (str, unique) plus text columns
            (str, may be empty), e.g. title, genres, year, tags, description, brand.
        events_path: the file the events came from (for error messages).
        items_path: the catalogue file, or None.
        sources: every file read, for the manifest's input hashes.
        has_time: False where `time` is only the order of events (sequence formats).
        text_fields: the catalogue columns the item-text template uses, in order.
        category_separators: catalogue column -> the separator the reader joined its values
            with (e.g. MovieLens genres -> ", "; "" = one value per item); columns not named
            here hold the file's own text (rank.filter's default separator, `|`).
    """

    events: pd.DataFrame
    items: pd.DataFrame | None
    events_path: Path
    items_path: Path | None
    sources: list[Path] = field(default_factory=list)
    has_time: bool = True
    text_fields: list[str] = field(default_factory=list)
    category_separators: dict[str, str] = field(default_factory=dict)


@dataclass
class PreparedData:
    """The output of `prepare`, read back by every later stage.

    Attributes:
        events: columns `user_idx` (0..n_users-1), `item_idx` (1..n_items; 0 is padding),
            `time` (int64 unix nanoseconds), `split` (TRAIN/VALID/TEST), sorted by user, then time, then
            original order.
        items: `item_idx` (1..n_items), `item_id` (original id, str), `text` (str), plus the
            catalogue's text columns; row i-1 describes item i.
        users: `user_idx`, `user_id` (original id, str).
        has_time: whether `time` holds real timestamps.
        category_separators: catalogue column -> separator between its values, as the reader
            stored them (RawData.category_separators); what rank.filter splits categories on.
    """

    events: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    has_time: bool
    category_separators: dict[str, str] = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)
