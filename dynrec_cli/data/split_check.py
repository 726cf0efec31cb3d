"""Refuse a split that leaves nothing to train on or to validate with, saying why."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli.data.clock import iso
from dynrec_cli.data.split import resolve_cutoff
from dynrec_cli.data.types import TEST, TIME, TRAIN, USER, VALID
from dynrec_cli.errors import DataError

log = logging.getLogger(__name__)


def evaluable_users(events: pd.DataFrame) -> dict[str, int]:
    """Users each split can evaluate: a target in the split and an earlier event to read.

    Args:
        events: events with `user` and `split` columns.

    Returns:
        {"train": users with a TRAIN event, "valid": ... with VALID and TRAIN events,
        "test": ... with a TEST event and a TRAIN or VALID one}.
    """
    users = pd.factorize(events[USER])[0]  # a categorical's codes: no Python string per event
    split = events["split"].to_numpy()
    has = {code: np.bincount(users[split == code], minlength=users.max(initial=-1) + 1) > 0
           for code in (TRAIN, VALID, TEST)}
    return {"train": int(has[TRAIN].sum()), "valid": int((has[VALID] & has[TRAIN]).sum()),
            "test": int((has[TEST] & (has[TRAIN] | has[VALID])).sum())}


def check_splits(events: pd.DataFrame, how: str, valid: float, test: float, path: Path) -> None:
    """Raise when train or valid has no user; warn when test has none.

    Args:
        events: the split events (`user`, `time`, `split` columns).
        how: `data.split` (leave_one_out or temporal).
        valid: `data.temporal.valid`, read when `how` is temporal.
        test: `data.temporal.test`, likewise.
        path: the event log, named in the message.

    Raises:
        DataError: the train or valid split has no evaluable user, with the reason.
    """
    users = evaluable_users(events)
    for name in ("train", "valid"):
        if users[name] == 0:
            raise DataError(path, f"the {name} split is empty: {_why(events, how, valid, test, name)}",
                            fix=_FIXES[how])
    if users["test"] == 0:
        log.warning("%s: the test split is empty (%s); training runs, but evaluate reports valid/ "
                    "metrics only and metrics.json has no test/ keys", path,
                    _why(events, how, valid, test, "test"))


_FIXES = {
    "leave_one_out": "give users 3 or more events; data.min_user_interactions=3 keeps only those",
    "temporal": "set data.temporal.valid / data.temporal.test between the first and last event, "
                "e.g. the fractions 0.8 and 0.9, or use data.split=leave_one_out",
}


def _why(events: pd.DataFrame, how: str, valid: float, test: float, name: str) -> str:
    if how != "temporal":
        longest = int(events.groupby(USER, observed=True).size().max())
        if longest < 3:
            return (f"leave_one_out holds out a user's last 2 events only when they have at least 3, "
                    f"and the longest history has {longest}")
        return "no user keeps a train event before the held-out ones (data.cold_items?)"
    times = events[TIME].to_numpy()
    first, last = int(times.min()), int(times.max())
    given = {"valid": valid, "test": test}
    cuts = {key: resolve_cutoff(times, value, f"data.temporal.{key}") for key, value in given.items()}
    if first == last:
        return f"every event has the same time, {iso(first)}, so no cut-off separates them"
    span = f"the events run from {iso(first)} to {iso(last)}"
    if name == "train" and cuts["valid"] <= first:
        return f"data.temporal.valid={valid} cuts at {iso(cuts['valid'])}, at or before the first event ({span})"
    if name != "train" and cuts[name] > last:
        return f"data.temporal.{name}={given[name]} cuts at {iso(cuts[name])}, after the last event ({span})"
    if name == "valid" and cuts["valid"] == cuts["test"]:
        return f"data.temporal.valid={valid} and data.temporal.test={test} cut at the same time, {iso(cuts['test'])}"
    return f"no user has events on both sides of the cut-off ({span})"

