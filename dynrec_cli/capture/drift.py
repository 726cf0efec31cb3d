"""The drift report of a capture: how far each user's interest moved, and when."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dynrec_cli.capture.apply import cosine_distance
from dynrec_cli.data.clock import seconds


def drift_table(events: pd.DataFrame, user_ids: pd.Series, start: torch.Tensor, now: torch.Tensor) -> pd.DataFrame:
    """Per touched user: events applied, cosine distance from the capture's start to now.

    `first_time`, `last_time`: the user's first and last applied event, int64 nanoseconds.

    Args:
        events: the capture's applied events (user_idx, time, drift).
        user_ids: the store's user ids, position = user index.
        start: (n_users at the start, d) vectors when the capture began; later users are new.
        now: (n_users, d) vectors after it.

    Returns:
        user_idx, user_id, events, drift (NaN for users new in this capture), new_user,
        first_time, last_time, mean_event_drift; the largest movers first.
    """
    grouped = events.groupby("user_idx").agg(events=("time", "size"), first_time=("time", "min"),
                                             last_time=("time", "max"), mean_event_drift=("drift", "mean"))
    users = grouped.index.to_numpy(np.int64)
    known = users < len(start)
    drift = np.full(len(users), np.nan)
    if known.any():
        drift[known] = cosine_distance(start[users[known]], now[users[known]])
    table = pd.DataFrame({
        "user_idx": users, "user_id": user_ids.to_numpy()[users].astype(str), "events": grouped["events"].to_numpy(),
        "drift": drift, "new_user": ~known, "first_time": grouped["first_time"].to_numpy(),
        "last_time": grouped["last_time"].to_numpy(), "mean_event_drift": grouped["mean_event_drift"].to_numpy(),
    })
    return table.sort_values(["drift", "user_idx"], ascending=[False, True], na_position="last").reset_index(drop=True)


def drift_over_time(events: pd.DataFrame, bins: int) -> pd.DataFrame:
    """Mean per-event drift and event count in `bins` equal-width periods of the event times.

    `start` is each period's start in nanoseconds. Periods are cut on offsets from the first
    event (exact integers), so events milliseconds apart fall on the right side of an edge.
    """
    times = events["time"].to_numpy(np.int64)
    first = int(times.min()) if len(times) else 0
    offsets = times - first
    span = int(offsets.max()) if len(times) else 0
    # edges rounded up in Python integers: an event is past an edge exactly when it is past the real one
    edges = np.array([-(-span * i // bins) for i in range(bins + 1)], dtype=np.int64)
    which = np.clip(np.searchsorted(edges, offsets, side="right") - 1, 0, bins - 1)
    frame = pd.DataFrame({"period": which, "drift": events["drift"].to_numpy()})
    summary = frame.groupby("period").agg(events=("drift", "size"), mean_drift=("drift", "mean"))
    summary = summary.reindex(range(bins), fill_value=0)
    summary["start"] = first + edges[:-1]
    return summary.reset_index()


def drift_plot(events: pd.DataFrame, path: Path, bins: int, has_time: bool) -> None:
    """PNG: mean per-event cosine drift per period (line) over events per period (bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timeline = drift_over_time(events, bins)
    x = pd.to_datetime(timeline["start"], unit="ns") if has_time else pd.Series(seconds(timeline["start"].to_numpy()))
    width = (x.iloc[1] - x.iloc[0]) if len(x) > 1 else 1
    fig, left = plt.subplots(figsize=(8, 4), dpi=100)
    right = left.twinx()
    right.bar(x, timeline["events"], width=width, align="edge", color="#cccccc", label="events")
    left.plot(x + width / 2, timeline["mean_drift"].where(timeline["events"] > 0), marker="o", color="#c0392b")
    left.set_zorder(right.get_zorder() + 1)
    left.patch.set_visible(False)
    left.set_ylabel("mean cosine drift per event")
    right.set_ylabel("events")
    left.set_xlabel("event time" if has_time else "event order")
    left.set_title(f"interest drift over the captured period ({len(events):,} events)")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
