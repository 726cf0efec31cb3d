"""Applying events to user states: a batched path (a chunk at once) and a single-event path.

Both give each user, after each event, the vector of the window of their latest `max_len`
events: the batched path builds every event's window in one gather and encodes them in a few
forward passes; the single path shifts one window and encodes it (what a live stream does, and
what the per-event latency measures). The item table is computed once per capture, never per event.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from dynrec_cli.capture.store import UserState
from dynrec_cli.capture.windows import chunk_windows, encode_windows

# torch CPU threads of the single-event path: one window is a few thousand multiply-adds per layer,
# less than a thread hand-off costs, and on a busy machine waiting for a second core costs far more
# (median 212 ms per event with 2 threads against 1.55 ms with one, issue 15; docs/capture.md)
SINGLE_EVENT_THREADS = 1


@dataclass
class Encoder:
    """The trained model and the item table it reads, on one device."""

    model: nn.Module
    table: Tensor  # (n_items' + 1, d)
    device: torch.device
    batch: int = 4096

    def __call__(self, items: np.ndarray, times: np.ndarray) -> Tensor:
        """(B, L) windows -> (B, d) vectors on the CPU."""
        rows = torch.as_tensor(items, device=self.device)
        stamps = torch.as_tensor(times, device=self.device)
        # clone: a normal tensor the state can update in place (inference tensors cannot be)
        return encode_windows(self.model, self.table, rows, stamps, self.batch).cpu().clone()


def cosine_distance(before: Tensor, after: Tensor) -> np.ndarray:
    """1 - cos(before, after) per row: (n, d), (n, d) -> (n,). NumPy: cheaper than torch for one row."""
    a, b = before.numpy().astype(np.float64), after.numpy().astype(np.float64)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return 1.0 - (a * b).sum(-1) / np.maximum(norms, 1e-12)


def apply_batched(state: UserState, encoder: Encoder, users: np.ndarray, items: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Apply a chunk of events (in time order) to `state` in place.

    Args:
        users: (n,) store user index of each event; items, times: (n,).

    Returns:
        (n,) cosine distance between the user's vector before and after each event (NaN when
        the user had no state before it).
    """
    touched, local = np.unique(users, return_inverse=True)
    window_items, window_times = chunk_windows(state.window_items[touched], state.window_times[touched], local, items, times)
    vectors = encoder(window_items.numpy(), window_times.numpy())
    order = np.argsort(local, kind="stable")
    first = np.ones(len(order), bool)
    first[1:] = local[order][1:] != local[order][:-1]
    previous = torch.empty_like(vectors)
    previous[order[~first]] = vectors[order[np.flatnonzero(~first) - 1]]
    previous[order[first]] = state.vectors[touched[local[order[first]]]]
    had_state = np.ones(len(users), bool)
    had_state[order[first]] = state.window_items[touched[local[order[first]]], -1] > 0
    drift = np.where(had_state, cosine_distance(previous, vectors), np.nan)
    last = order[np.append(first[1:], True)]  # each user's last event of the chunk
    state.window_items[touched] = window_items[last].numpy()
    state.window_times[touched] = window_times[last].numpy()
    state.vectors[touched] = vectors[last]
    return drift


def apply_one(state: UserState, encoder: Encoder, user: int, item: int, stamp: int) -> float:
    """Apply one event to `state` in place; returns its drift (NaN for a user without state)."""
    had_state = state.window_items[user, -1] > 0
    items = np.append(state.window_items[user, 1:], item)
    times = np.append(state.window_times[user, 1:], stamp)
    vector = encoder(items[None], times[None])[0]
    drift = float(cosine_distance(state.vectors[user][None], vector[None])[0]) if had_state else float("nan")
    state.window_items[user], state.window_times[user], state.vectors[user] = items, times, vector
    return drift


@dataclass
class Timing:
    """Seconds spent applying events (excluding checkpoints) and single-path latencies."""

    apply_seconds: float = 0.0
    checkpoint_seconds: float = 0.0
    events: int = 0
    latencies: list[float] = field(default_factory=list)
    threads: int = 0  # torch CPU threads the latencies were measured with

    def figures(self) -> dict[str, float]:
        out = {"events_per_s": round(self.events / self.apply_seconds, 1) if self.apply_seconds > 0 else 0.0,
               "apply_seconds": round(self.apply_seconds, 3), "checkpoint_seconds": round(self.checkpoint_seconds, 3)}
        if self.latencies:
            ms = np.asarray(self.latencies) * 1000.0
            out.update(latency_events=len(ms), latency_ms_median=round(float(np.median(ms)), 4),
                       latency_ms_p99=round(float(np.percentile(ms, 99)), 4), latency_threads=self.threads)
        return out


def apply_single(state: UserState, encoder: Encoder, users: np.ndarray, items: np.ndarray, times: np.ndarray, timing: Timing) -> np.ndarray:
    """The single-event path over a chunk, timing every event into `timing.latencies`; runs on
    SINGLE_EVENT_THREADS torch threads (the caller's setting is restored after)."""
    drift = np.empty(len(users))
    with torch_threads(SINGLE_EVENT_THREADS):
        timing.threads = torch.get_num_threads()
        for j in range(len(users)):  # one event at a time on purpose: this is the streaming path
            started = time.perf_counter()
            drift[j] = apply_one(state, encoder, int(users[j]), int(items[j]), int(times[j]))
            timing.latencies.append(time.perf_counter() - started)
    return drift


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """torch's intra-op CPU threads set to `threads` inside the block, the previous count restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def probe_latency(state: UserState, encoder: Encoder, users: np.ndarray, items: np.ndarray, times: np.ndarray, timing: Timing) -> None:
    """Time the first events through the single path on a scratch copy (the store is not changed)."""
    apply_single(state.copy(), encoder, users, items, times, timing)


def run_chunks(
    state: UserState, encoder: Encoder, users: np.ndarray, items: np.ndarray, times: np.ndarray, keep: np.ndarray,
    mode: str, every: int, checkpoint: Callable[[slice, np.ndarray], None], timing: Timing,
) -> None:
    """Apply events chunk by chunk, calling `checkpoint(chunk, drift)` after each.

    keep: (n,) False for events that are skipped (counted by the cursor, not applied).
    """
    for start in range(0, len(users), every):
        part = slice(start, min(start + every, len(users)))
        chosen = np.flatnonzero(keep[part]) + start
        drift = np.full(part.stop - start, np.nan)
        started = time.perf_counter()
        if len(chosen) and mode == "batched":
            drift[chosen - start] = apply_batched(state, encoder, users[chosen], items[chosen], times[chosen])
        elif len(chosen):
            drift[chosen - start] = apply_single(state, encoder, users[chosen], items[chosen], times[chosen], timing)
        timing.apply_seconds += time.perf_counter() - started
        timing.events += len(chosen)
        started = time.perf_counter()
        checkpoint(part, drift)
        timing.checkpoint_seconds += time.perf_counter() - started
