"""Which items `prepare` dropped, and which filter dropped each: a capture event naming one says so.

prepare writes `dropped_items.parquet` (item_id, reason): every item of the log or the catalogue
that has no index in the prepared data, with the first step that removed its last event.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from dynrec_cli import artifacts, run_files
from dynrec_cli.data.types import ITEM

DROPPED_FILE = "dropped_items.parquet"
CATALOGUE_ONLY = "its catalogue row has no event in the log"


class DropLog:
    """Follows the item set through prepare's steps; `step` after each one that can drop items."""

    def __init__(self, events: pd.DataFrame) -> None:
        self._present = pd.Index(events[ITEM].unique()).astype(str)
        self._dropped: list[pd.Series] = []  # item_id -> reason, one Series per step

    def step(self, events: pd.DataFrame, reason: str | pd.Series) -> None:
        """Items gone since the last step get `reason` (or their entry of a Series by item id)."""
        now = pd.Index(events[ITEM].unique()).astype(str)
        gone = self._present.difference(now)
        self._dropped.append(pd.Series(reason, index=gone, dtype=str) if isinstance(reason, str) else reason.reindex(gone))
        self._present = now

    def kcore(self, before: pd.DataFrame, after: pd.DataFrame, min_user: int, min_item: int) -> None:
        """The k-core's reason: too few events from the start, or too few once sparse users left."""
        counts = before[ITEM].value_counts()
        counts.index = counts.index.astype(str)
        counts = counts[counts.index.isin(self._present.difference(pd.Index(after[ITEM].unique()).astype(str)))]
        text = counts.astype(str) + counts.map({1: " event"}).fillna(" events")
        sparse = f"data.min_item_interactions={min_item} (it had " + text + ")"
        core = (f"the k-core of data.min_user_interactions={min_user} and data.min_item_interactions={min_item} (its "
                + text + f" fell below {min_item} once sparse users were removed)")
        self.step(after, sparse.where(counts < min_item, core))

    def frame(self, catalogue: pd.DataFrame | None) -> pd.DataFrame:
        """(item_id, reason) of every dropped item; catalogue rows never in the log included."""
        parts = list(self._dropped)
        if catalogue is not None:
            seen = pd.Index(pd.concat(parts).index if parts else []).union(self._present)
            parts.append(pd.Series(CATALOGUE_ONLY, index=pd.Index(catalogue[ITEM].unique()).astype(str).difference(seen), dtype=str))
        reasons = pd.concat(parts) if parts else pd.Series(dtype=str)
        return pd.DataFrame({"item_id": reasons.index.astype(str), "reason": reasons.to_numpy(dtype=str)})


def event_filter_reason(data: DictConfig) -> str:
    """The keys of `clean.filter_events` that are set, e.g. `data.min_rating=4`."""
    keys = [f"data.min_rating={data.min_rating}"] if data.min_rating is not None else []
    return " / ".join(keys + ([f"data.events={list(data.events)}"] if data.events else []))


def load_dropped(prepare_dir: Path) -> pd.Series | None:
    """item_id -> why prepare dropped it; None for a run prepared before this was recorded."""
    manifest = artifacts.load_manifest(prepare_dir) or {}
    if DROPPED_FILE not in manifest.get("outputs", {}):
        return None
    frame = run_files.read_table(artifacts.verified_file(prepare_dir, DROPPED_FILE), ("item_id", "reason"))
    return pd.Series(frame["reason"].to_numpy(), index=frame["item_id"].to_numpy())
