"""Cleaning the raw event log: filters, duplicates, k-core, ordering and id maps.

Every function is pure: it takes the event table (columns of `RawData.events`) and returns a
new one with a fresh 0..n-1 index, so positional arrays (split codes) stay aligned with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli.config_lists import as_list
from dynrec_cli.data.types import EVENT, ITEM, RATING, ROW, TIME, USER
from dynrec_cli.errors import ConfigError, DataError


def filter_events(
    events: pd.DataFrame, min_rating: float | None, keep_events: str | int | Iterable[object] | None
) -> pd.DataFrame:
    """Keep the events with `rating >= min_rating` and an `event` type in `keep_events`.

    Args:
        events: the raw event table.
        min_rating: lowest rating kept; None keeps every rating.
        keep_events: event types kept (`data.events`), compared as stripped, case-sensitive
            text; a single value counts as a list of one. None or empty keeps every type.

    Returns:
        The kept events, in their original order.

    Raises:
        ConfigError: a filter is set but the log has no column to apply it to.
    """
    keep = np.ones(len(events), dtype=bool)
    if min_rating is not None:
        _require_column(events, RATING, "data.min_rating", "data.min_rating=null")
        keep &= (events[RATING] >= min_rating).to_numpy()
    wanted = event_values(keep_events)
    if wanted:
        _require_column(events, EVENT, "data.events", "data.events=null")
        keep &= events[EVENT].isin(wanted).to_numpy()
    return events.loc[keep].reset_index(drop=True)


def event_values(keep_events: str | int | Iterable[object] | None) -> list[str]:
    """`data.events` as the list of text values it keeps: Hydra reads `data.events=buy` as one
    string (not a list of letters) and `data.events=[1]` as a number, while the log holds text."""
    return [str(value).strip() for value in as_list(keep_events)]


def event_counts(events: pd.DataFrame, shown: int = 5) -> str:
    """The most frequent event types of a log with their counts, e.g. "view (80), buy (12)"."""
    if EVENT not in events.columns:
        return "none"
    counts = events[EVENT].value_counts(sort=True)
    counts = counts[counts > 0]
    text = ", ".join(f"{value!r} ({count})" for value, count in counts.head(shown).items())
    return text + (f" and {len(counts) - shown} more" if len(counts) > shown else "")


def _require_column(events: pd.DataFrame, column: str, key: str, unset: str) -> None:
    if column not in events.columns:
        raise ConfigError(
            f"{key} is set but the event log has no {column} column: map one with "
            f"data.columns.{column}=<column in your file>, or set {unset}"
        )


def drop_duplicate_events(events: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop exact repeats of (user, item, time[, event]), keeping the first in file order.

    Returns:
        The deduplicated events and how many rows were dropped.
    """
    subset = [USER, ITEM, TIME] + ([EVENT] if EVENT in events.columns else [])
    repeated = events.duplicated(subset=subset, keep="first").to_numpy()
    return events.loc[~repeated].reset_index(drop=True), int(repeated.sum())


def kcore(events: pd.DataFrame, min_user: int, min_item: int) -> pd.DataFrame:
    """Remove sparse users and items until every kept one meets its threshold.

    Removing an item can push a user under `min_user` (and back), so the filter repeats until
    nothing changes: the result is the largest sub-log where every user has at least
    `min_user` events and every item at least `min_item`. A threshold of 0 or 1 filters nothing.

    Args:
        events: the event table.
        min_user: fewest events a kept user has.
        min_item: fewest events a kept item has.

    Returns:
        The kept events, in their original order.
    """
    if min_user < 0 or min_item < 0:
        raise ConfigError(f"k-core thresholds must be >= 0, got users {min_user}, items {min_item}")
    kept = events
    # Loops over rounds, not events: each round is two vectorised group counts.
    while len(kept):
        users_ok = kept.groupby(USER, sort=False)[USER].transform("size") >= min_user
        items_ok = kept.groupby(ITEM, sort=False)[ITEM].transform("size") >= min_item
        keep = (users_ok & items_ok).to_numpy()
        if keep.all():
            break
        kept = kept.loc[keep]
    return kept.reset_index(drop=True)


def sort_events(events: pd.DataFrame) -> pd.DataFrame:
    """Sort by user id (as a string), then time, then file order.

    Events with equal timestamps keep their order in the source file (`row`), so the later
    line is treated as the later event.
    """
    keys = [USER, TIME] + ([ROW] if ROW in events.columns else [])
    # lexsort (multi-key) is stable, so without `row` the input order breaks ties.
    return events.sort_values(keys, kind="stable").reset_index(drop=True)


def truncate_recent(events: pd.DataFrame, max_len: int | None) -> pd.DataFrame:
    """Keep each user's `max_len` most recent events; `events` must be sorted.

    Args:
        events: events sorted by `sort_events`.
        max_len: longest history kept per user; None keeps everything.
    """
    if max_len is None:
        return events
    if max_len < 1:
        raise ConfigError(f"data.max_seq_len must be >= 1 or null, got {max_len}")
    from_end = events.groupby(USER, sort=False).cumcount(ascending=False).to_numpy()
    return events.loc[from_end < max_len].reset_index(drop=True)


def build_id_maps(
    events: pd.DataFrame, items_catalogue: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Give users and items contiguous indices, both in order of their sorted ids.

    Only items present in the log get an index. Their catalogue columns (if any) are joined
    onto the item table; items missing from the catalogue get empty strings.

    Args:
        events: the cleaned events (`user`, `item` columns).
        items_catalogue: the catalogue (`item` plus text columns), or None.

    Returns:
        `events` plus `user_idx` (0..n_users-1) and `item_idx` (1..n_items, 0 is padding);
        users `[user_idx, user_id]`; items `[item_idx, item_id, <catalogue columns>]`, where
        row i-1 describes item i.
    """
    user_codes, user_ids = pd.factorize(events[USER], sort=True)
    item_codes, item_ids = pd.factorize(events[ITEM], sort=True)
    mapped = events.assign(
        user_idx=user_codes.astype(np.int64), item_idx=item_codes.astype(np.int64) + 1
    )
    users = pd.DataFrame(
        {"user_idx": np.arange(len(user_ids), dtype=np.int64), "user_id": np.asarray(user_ids)}
    )
    item_idx = np.arange(1, len(item_ids) + 1, dtype=np.int64)
    items = pd.DataFrame({"item_idx": item_idx, "item_id": np.asarray(item_ids)})
    if items_catalogue is not None:
        text = items_catalogue.drop_duplicates(ITEM).rename(columns={ITEM: "item_id"})
        text = text.drop(columns=[c for c in ("item_idx",) if c in text.columns])
        items = items.merge(text, on="item_id", how="left", validate="one_to_one")
        extra = [c for c in items.columns if c not in ("item_idx", "item_id")]
        items[extra] = items[extra].fillna("")
    return mapped, users, items


def check_catalogue(
    events: pd.DataFrame,
    items: pd.DataFrame,
    items_path: str | Path,
    allow_missing: bool = False,
    events_path: str | Path | None = None,
) -> np.ndarray:
    """Find the logged items that the catalogue does not describe.

    Args:
        events: the event table (`item` column, and `row` where present).
        items: the catalogue (`item` column).
        items_path: the catalogue file, for the message.
        allow_missing: return the missing ids instead of raising.
        events_path: the event log, named with the row of the first missing item's event.

    Returns:
        The missing item ids, in order of first appearance in the log (empty if none). The
        caller gives them empty text.

    Raises:
        DataError: some items are missing and `allow_missing` is False.
    """
    missing_rows = ~events[ITEM].isin(items[ITEM]).to_numpy()
    missing = pd.unique(events[ITEM].to_numpy()[missing_rows])
    if len(missing) and not allow_missing:
        log = Path(events_path).name if events_path is not None else "the event log"
        where = f", in {log}" + (f" row {int(events[ROW].to_numpy()[missing_rows][0])}" if ROW in events.columns else "")
        raise DataError(
            items_path,
            f"{len(missing)} item id(s) of the event log are not in this catalogue; "
            f"the first is '{missing[0]}'{where}",
            fix="add them to the catalogue, or set data.allow_missing_items=true "
            "to keep them with empty text",
        )
    return np.asarray(missing, dtype=object)
