"""chunk_windows: every event's window in one gather equals shifting the window event by event."""

from __future__ import annotations

import numpy as np

from dynrec_cli.capture.windows import chunk_windows


def test_chunk_windows_match_one_shift_per_event() -> None:
    rng = np.random.default_rng(0)
    length, n_users, n_events = 5, 4, 30
    fill = np.array([0, 2, 5, 3])  # an empty window, partial ones and a full one
    window_items = np.zeros((n_users, length), np.int64)
    window_times = np.zeros((n_users, length), np.int64)
    for user, count in enumerate(fill):
        if count:
            window_items[user, -count:] = rng.integers(1, 50, count)
            window_times[user, -count:] = np.sort(rng.integers(0, 100, count))
    users = rng.integers(0, n_users, n_events)
    items = rng.integers(1, 50, n_events)
    times = 100 + np.arange(n_events)
    got_items, got_times = chunk_windows(window_items, window_times, users, items, times)
    state_items, state_times = window_items.copy(), window_times.copy()
    for j, user in enumerate(users):
        state_items[user] = np.append(state_items[user, 1:], items[j])
        state_times[user] = np.append(state_times[user, 1:], times[j])
        assert got_items[j].tolist() == state_items[user].tolist(), j
        assert got_times[j].tolist() == state_times[user].tolist(), j
