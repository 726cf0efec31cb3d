"""Reading a file of new events for `dynrec capture`: same column mapping as `prepare`, time order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from dynrec_cli.capture.columns import SAME_COLUMNS
from dynrec_cli.data.types import ITEM, ROW, TIME, USER
from dynrec_cli.errors import DataError

@dataclass
class NewEvents:
    """A capture file's events in time order (stable: ties keep the file's order).

    users: (n,) original user ids (str); items: (n,) store item indices; times: (n,) int64 ns;
    rows: (n,) line numbers in the file; has_time: False when `data.columns.time` is null.
    """

    path: Path
    users: np.ndarray
    items: np.ndarray
    times: np.ndarray
    rows: np.ndarray
    has_time: bool

    def __len__(self) -> int:
        return len(self.rows)

    def tail(self, start: int) -> NewEvents:
        """The events from position `start` on (those a resumed capture still has to apply)."""
        return NewEvents(self.path, self.users[start:], self.items[start:], self.times[start:], self.rows[start:], self.has_time)


def read_events(path: Path, data: DictConfig, item_ids: pd.Series, columns: dict[str, str | None] | None = None) -> NewEvents:
    """Read, filter (data.min_rating / data.events) and sort a capture file; map items to the store.

    Args:
        path: CSV/TSV/Parquet file (by extension).
        data: the run's data config.
        item_ids: the store's item ids, position i = item index i + 1.
        columns: the file's column per role (`capture_columns`); None = the run's data.columns.

    Raises:
        DataError: unreadable file, bad value, or an item the store does not know (row, column).
    """
    from dynrec_cli.data import clean
    from dynrec_cli.data.readers.generic import read_csv_log

    from dynrec_cli.data.readers.tables import check_file

    check_file(Path(path), "capture.events=")
    columns = columns if columns is not None else OmegaConf.to_container(data.columns)
    raw = read_csv_log(Path(path), None, columns, None, None, data.sep, data.encoding,
                       columns_fix=SAME_COLUMNS)
    events = clean.filter_events(raw.events, data.min_rating, data.events)
    events = events.iloc[np.argsort(events[TIME].to_numpy(), kind="stable")]
    index = pd.Index(item_ids.astype(str)).get_indexer(events[ITEM].to_numpy())
    unknown = index < 0
    if unknown.any():
        first = int(np.argmax(unknown))
        raise DataError(
            path, f"item '{events[ITEM].iloc[first]}' is not in the run's catalogue and has no text",
            row=int(events[ROW].iloc[first]), column=columns["item"],
            fix="add its catalogue row with capture.items=FILE (text models only)",
        )
    return NewEvents(
        Path(path), events[USER].to_numpy().astype(str), index.astype(np.int64) + 1,
        events[TIME].to_numpy(np.int64), events[ROW].to_numpy(np.int64), raw.has_time,
    )
