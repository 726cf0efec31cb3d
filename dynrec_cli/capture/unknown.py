"""Capture events naming an item the store has no vector for: why, and what to do about it.

An item can be unknown because one of prepare's filters dropped it (k-core, min_rating, ...:
prepare/dropped_items.parquet says which), because its catalogue row had no event, or because the
run never saw it at all. `capture.unknown_items=error` (the default) refuses the file naming the
first such event and its reason; `skip` applies the other events and counts these, as prepare
left the same items' events out of training.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from dynrec_cli.capture.events import NewEvents
from dynrec_cli.data.dropped import CATALOGUE_ONLY
from dynrec_cli.errors import DataError

log = logging.getLogger(__name__)
MODES = ("error", "skip")


def why_unknown(item: str, dropped: pd.Series | None) -> str:
    """One item's story: dropped by which filter, in the catalogue only, or never seen.

    dropped: item_id -> reason (data.dropped.load_dropped), None for a run prepared before
    dynrec recorded it."""
    if dropped is None:
        return f"item '{item}' is not in the run's catalogue"
    reason = dropped.get(item)
    if reason is None:
        return f"item '{item}' was never seen: it is in neither the log nor the catalogue the run was prepared from"
    if reason == CATALOGUE_ONLY:
        return f"item '{item}' is in the run's catalogue file but had no event in its log, so the model has no vector for it"
    return f"item '{item}' was dropped by {reason} at prepare"


def check_unknown_items(events: NewEvents, mode: str, dropped: pd.Series | None, column: str) -> int:
    """Refuse (mode error) or count (mode skip) the events whose item the store does not know.

    Returns the number of such events. Raises DataError naming the first one's row, column and reason."""
    unknown = events.items == 0
    if not unknown.any():
        return 0
    first = int(np.argmax(unknown))
    if mode == "error":
        known_id = dropped is not None and events.item_ids[first] in dropped.index
        raise DataError(
            events.path, why_unknown(events.item_ids[first], dropped), row=int(events.rows[first]), column=column,
            fix=("capture.unknown_items=skip leaves such events out, as prepare left them out of training" if known_id else
                 f"check that capture.columns.item names the file's item column ({column}); new items join with "
                 "capture.items=FILE (text models); capture.unknown_items=skip leaves such events out"),
        )
    ids = pd.Series(events.item_ids[unknown])
    seen = ids.isin(dropped.index) if dropped is not None else pd.Series(False, index=ids.index)
    log.warning("[capture] %s: %d events name %d items the run has no vector for, skipped (capture.unknown_items=skip): "
                "%d dropped at prepare, %d never seen; e.g. %s", events.path, len(ids), ids.nunique(),
                int(seen.sum()), int((~seen).sum()), why_unknown(ids.iloc[0], dropped))
    return len(ids)
