"""JSON bodies to what the capture path applies: the same id, time and filter functions as a file.

`POST /events` takes `[{"user_id", "item_id", "timestamp"?, "event"?, "rating"?}, ...]`. Ids are
checked by the rules of the readers' `ids` (strings or integers; stripped; empty and missing-value
markers refused), timestamps by `parse_time` (unix seconds or milliseconds, or ISO 8601 dates, exactly as
in a capture file), `data.min_rating` / `data.events` by `filter_events`, and the items are
looked up in the store. An absent timestamp is "now", taken by the writer when it applies the
batch (`EventBatch.stamped`); the events are then put in time order (stable), as a file's are.

Every refusal is an `Invalid`: HTTP status, the field (`events[3].item_id`) and one line.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dynrec_cli.capture.events import NewEvents, item_indices
from dynrec_cli.data.readers.frames import MISSING_WORDS
from dynrec_cli.data.types import ROW
from dynrec_cli.errors import DataError, DynrecError

BODY = Path("events")  # what the readers' DataError names as the "file"
UNKNOWN_ITEM_FIX = "add its catalogue row with POST /items (text models); items that prepare's filters dropped are not in the run"


class Invalid(Exception):
    """A request refused for its content: HTTP status, the field at fault and one line."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status, self.field = status, field


@dataclass(frozen=True)
class Roles:
    """Which optional fields the run reads: time (else file order), rating and event filters."""

    has_time: bool
    min_rating: float | None
    events: Any  # data.events (None = every type)


@dataclass
class EventBatch:
    """A validated batch, in the body's order (after data.min_rating / data.events). Events sent
    without a timestamp get theirs from the writer (`stamped`): "now" is when the batch is applied,
    so concurrent requests of one user can never arrive older than what was applied before them."""

    users: np.ndarray  # (n,) str
    items: np.ndarray  # (n,) store item index
    item_ids: np.ndarray  # (n,) str
    times: np.ndarray  # (n,) as parse_time made them; 0 where `missing`
    missing: np.ndarray  # (n,) bool: no timestamp given
    rows: np.ndarray  # (n,) position in the body
    has_time: bool
    received: int  # events in the body

    def user_set(self) -> set[str]:
        return set(self.users.tolist())

    def stamped(self, now: Any) -> tuple[NewEvents, list[list[Any]]]:
        """The events in time order (stable) with `now` for the missing times, and the journal's lines."""
        times = self.times.copy()
        times[self.missing] = now
        order = np.argsort(times, kind="stable") if self.has_time else np.arange(len(times))
        events = NewEvents(BODY, self.users[order], self.items[order], self.item_ids[order], times[order], self.rows[order], self.has_time)
        journal = [list(e) for e in zip(events.users.tolist(), self.item_ids[order].tolist(), events.times.tolist())]
        return events, journal


def now_stamp() -> Any:
    """The current time as the capture path represents event times (parse_time of unix seconds)."""
    from dynrec_cli.data.readers.timeparse import parse_time

    return parse_time(pd.Series([time.time()]), BODY, "timestamp", np.zeros(1, np.int64))[0]


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(400, "body", f"not valid JSON ({exc})") from None


def records(payload: Any, name: str, limit: int, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """The body as a non-empty list of at most `limit` objects that have the required fields."""
    if not isinstance(payload, list):
        raise Invalid(422, name, f"expected a JSON list of objects, got {type(payload).__name__}")
    if not payload:
        raise Invalid(422, name, "empty list")
    if len(payload) > limit:
        raise Invalid(413, name, f"{len(payload)} {name} in one request, more than serve.max_{name}={limit}: split the batch")
    for position, row in enumerate(payload):
        if not isinstance(row, dict):
            raise Invalid(422, f"{name}[{position}]", f"expected an object, got {type(row).__name__}")
        for key in required:
            if row.get(key) is None:
                raise Invalid(422, f"{name}[{position}].{key}", "missing")
    return payload


def scalar(value: Any, field: str) -> str | float:
    """An id or timestamp as it would read from a file: strings and numbers only."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid(422, field, f"expected a string or a number, got {type(value).__name__} {json.dumps(value)[:40]}")
    return value


def parse_events(payload: Any, roles: Roles, item_ids: pd.Index, limit: int) -> EventBatch:
    """Validate a POST /events body into an EventBatch.

    Args:
        item_ids: the store's item ids; position i = item index i + 1.
        limit: serve.max_events.

    Raises:
        Invalid: bad structure (422/413) or a value the capture path refuses (422, field named).
    """
    rows = records(payload, "events", limit, ("user_id", "item_id") + (("rating",) if roles.min_rating is not None else ())
                   + (("event",) if roles.events else ()))
    try:
        return _batch(rows, roles, item_ids)
    except DataError as exc:
        field = f"events[{exc.row}].{exc.column}" if exc.row is not None else "events"
        raise Invalid(422, field, problem(exc)) from None
    except DynrecError as exc:
        raise Invalid(422, "events", str(exc)) from None


def _batch(rows: list[dict[str, Any]], roles: Roles, item_ids: pd.Index) -> EventBatch:
    from dynrec_cli.data import clean
    from dynrec_cli.data.readers.frames import events_frame, ratings
    from dynrec_cli.data.readers.timeparse import parse_time

    index = pd.RangeIndex(len(rows))  # the readers' "row" is the position in the list
    column = lambda key: pd.Series([_whole(scalar(r.get(key), f"events[{i}].{key}")) for i, r in enumerate(rows)],  # noqa: E731
                                   index=index, dtype=object)
    users = np.array([identifier(r["user_id"], f"events[{i}].user_id") for i, r in enumerate(rows)], dtype=object)
    items = np.array([identifier(r["item_id"], f"events[{i}].item_id") for i, r in enumerate(rows)], dtype=object)
    positions = np.arange(len(rows))
    missing = np.array([r.get("timestamp") is None for r in rows]) if roles.has_time else np.zeros(len(rows), bool)
    times = positions  # no time in the run: the order of arrival, as a file's order
    if roles.has_time:  # as parse_time represents them (the writer fills the missing ones)
        given = np.flatnonzero(~missing)
        parsed = parse_time(pd.Series([scalar(rows[i]["timestamp"], f"events[{i}].timestamp") for i in given], dtype=object),
                            BODY, "timestamp", given) if len(given) else np.zeros(0, np.int64)
        times = np.zeros(len(rows), parsed.dtype)
        times[given] = parsed
    kept, users, items = positions, users.astype(str), items.astype(str)
    if roles.min_rating is not None or roles.events:  # the readers' filter, on the readers' frame
        raw = events_frame(users, items, times, positions,
                           rating=ratings(column("rating"), BODY, "rating") if roles.min_rating is not None else None,
                           event=column("event") if roles.events else None)
        kept = clean.filter_events(raw, roles.min_rating, roles.events)[ROW].to_numpy(np.int64)
    indices = item_indices(item_ids, items[kept], kept, BODY, "item_id", UNKNOWN_ITEM_FIX)
    return EventBatch(users[kept], indices, items[kept], times[kept], missing[kept], kept, roles.has_time, len(rows))


def identifier(value: Any, field: str) -> str:
    """One id, by the rules of the readers' `ids` (frames.py) at the cost of a few string operations:
    strings or numbers, whole numbers without `.0`, stripped, neither empty nor a missing-value marker.
    (`ids` works on whole columns, ~1 ms a call: too much per request; a test checks they agree.)"""
    text = str(_whole(scalar(value, field))).strip()
    if not text:
        raise Invalid(422, field, "empty or missing id")
    if text.lower() in MISSING_WORDS:
        raise Invalid(422, field, f"id '{text}' is a missing-value marker, not an id (drop or repair the row)")
    return text


def _whole(value: str | float) -> str | float:
    """12.0 -> 12: a JSON number that is whole names the id a file would write as 12."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def problem(exc: DataError) -> str:
    """The readers' message without its "file, row, column:" prefix (the field says it)."""
    text = str(exc)
    where = str(exc.path) + (f", row {exc.row}" if exc.row is not None else "") + (f", column '{exc.column}'" if exc.column is not None else "")
    return text[len(where) + 2:] if text.startswith(where + ": ") else text

