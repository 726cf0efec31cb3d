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

    users: (n,) original user ids (str); items: (n,) store item indices, 0 for an item the store
    does not know; item_ids: (n,) the file's item ids (str); times: (n,) int64 ns;
    rows: (n,) line numbers in the file; has_time: False when `data.columns.time` is null.
    """

    path: Path
    users: np.ndarray
    items: np.ndarray
    item_ids: np.ndarray
    times: np.ndarray
    rows: np.ndarray
    has_time: bool

    def __len__(self) -> int:
        return len(self.rows)

    def tail(self, start: int) -> NewEvents:
        """The events from position `start` on (those a resumed capture still has to apply)."""
        return NewEvents(self.path, self.users[start:], self.items[start:], self.item_ids[start:], self.times[start:],
                         self.rows[start:], self.has_time)


def read_events(path: Path, data: DictConfig, item_ids: pd.Series, columns: dict[str, str | None] | None = None) -> NewEvents:
    """Read, filter (data.min_rating / data.events) and sort a capture file; map items to the store.

    Args:
        path: CSV/TSV/Parquet file (by extension).
        data: the run's data config.
        item_ids: the store's item ids, position i = item index i + 1.
        columns: the file's column per role (`capture_columns`); None = the run's data.columns.

    Raises:
        DataError: unreadable file or bad value (row, column). Items the store does not know are
            kept with index 0; `capture.unknown_items` decides about them (capture/unknown.py).
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
    index = pd.Index(item_ids.astype(str)).get_indexer(events[ITEM].to_numpy())  # -1: unknown (capture/unknown.py)
    return NewEvents(
        Path(path), events[USER].to_numpy().astype(str), index.astype(np.int64) + 1, events[ITEM].to_numpy().astype(str),
        events[TIME].to_numpy(np.int64), events[ROW].to_numpy(np.int64), raw.has_time,
    )


def item_indices(known: pd.Index, ids: np.ndarray, rows: np.ndarray, path: Path, column: str, fix: str) -> np.ndarray:
    """Store item index (1..n) of each id; `known` holds the store's item ids in index order.

    Raises:
        DataError: at the first id the store does not know (its row and column, and `fix`).
    """
    index = known.get_indexer(ids)
    unknown = index < 0
    if unknown.any():
        first = int(np.argmax(unknown))
        raise DataError(path, f"item '{ids[first]}' is not in the run's catalogue and has no text",
                        row=int(rows[first]), column=column, fix=fix)
    return index.astype(np.int64) + 1
