"""Replay protocol (`eval.protocol=replay`, needs `data.split=temporal`): does capture keep up?

Every test-period event is predicted, in time order, from the user's state at that moment: the
window of all their events before it, earlier test events included (what `dynrec capture`
holds after applying each event). `frozen` predicts the same events from the state at the
cut-off (the window of the user's events before the test period), as a model that never updates.
Both exclude the items the user consumed before the event (with eval.exclude_history), so only
the interest state differs. Events of users with no event before the cut-off are left out of
both. The states are computed in batch: each event's prefix window is one gather over the CSR
history, no loop over events.

Periods: the evaluated events in time order are cut into `eval.replay_periods` parts of equal
size; `evaluate/replay_periods.csv` holds each part's metrics for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from dynrec_cli.capture.windows import encode_windows
from dynrec_cli.data.sequences import UserSequences, build_sequences, prefix_windows, ragged_arange
from dynrec_cli.data.types import TEST, TRAIN, VALID
from dynrec_cli.evaluation.evaluator import SplitResult
from dynrec_cli.evaluation.metrics import compute_user_metrics
from dynrec_cli.ranking.scoring import topk_for_users

PROTOCOLS = ("standard", "replay")
PERIODS_FILE = "replay_periods.csv"


@dataclass
class ReplayEvents:
    """The evaluated test events: user, CSR position in the whole history, and where the cut-off is."""

    history: UserSequences  # every event of every user, time order
    users: np.ndarray  # (n,)
    positions: np.ndarray  # (n,) index into history.items
    cut: np.ndarray  # (n,) CSR position of the user's first test event

    @property
    def targets(self) -> np.ndarray:
        return self.history.items[self.positions]

    @property
    def times(self) -> np.ndarray:
        return self.history.times[self.positions]


def replay_events(events: pd.DataFrame, n_users: int) -> ReplayEvents:
    """Test events of users with history before the cut-off. `events` is the prepared table
    (sorted by user, then time), so its rows are the CSR positions."""
    history = build_sequences(events, n_users, (TRAIN, VALID, TEST))
    split = events["split"].to_numpy()
    owner = np.repeat(np.arange(n_users), history.lengths())
    before = np.bincount(owner[split != TEST], minlength=n_users)
    positions = np.flatnonzero(split == TEST)
    users = owner[positions]
    keep = before[users] > 0
    users, positions = users[keep], positions[keep]
    return ReplayEvents(history, users, positions, history.indptr[users] + before[users])


@torch.inference_mode()
def replay_vectors(model: nn.Module, table: Tensor, replay: ReplayEvents, frozen: bool, max_len: int, batch: int) -> Tensor:
    """(n, d) user vectors before each event: at that moment, or (frozen) at the cut-off."""
    ends = replay.cut if frozen else replay.positions
    items, times = prefix_windows(replay.history, replay.users, ends, max_len)
    return encode_windows(model, table, items.to(table.device), times.to(table.device), batch)


def seen_before(replay: ReplayEvents, rows: np.ndarray) -> tuple[Tensor, Tensor]:
    """(row, item) pairs: what the user of each event in `rows` consumed before it."""
    starts = replay.history.indptr[replay.users[rows]]
    lengths = replay.positions[rows] - starts
    pairs = np.repeat(np.arange(len(rows)), lengths)
    return torch.from_numpy(pairs), torch.from_numpy(replay.history.items[np.repeat(starts, lengths) + ragged_arange(lengths)])


@torch.inference_mode()
def score_events(vectors: Tensor, table: Tensor, replay: ReplayEvents, ks: list[int], exclude: bool,
                 chunk: int, item_chunk: int) -> SplitResult:
    """Rank the catalogue for each event from `vectors` and score it against the event's item."""
    per_event: dict[str, list[Tensor]] = {}
    lists = []
    targets = torch.from_numpy(replay.targets)[:, None]
    for start in range(0, len(replay.positions), chunk):
        rows = np.arange(start, min(start + chunk, len(replay.positions)))
        pairs = None
        if exclude:
            pair_rows, items = seen_before(replay, rows)
            pairs = (pair_rows.to(table.device), items.to(table.device))
        _, top = topk_for_users(vectors[rows], table, max(ks), item_chunk, pairs)
        for name, values in compute_user_metrics(top.cpu(), targets[rows], ks).items():
            per_event.setdefault(name, []).append(values)
        lists.append(top.cpu())
    topk = torch.cat(lists).numpy() if lists else np.zeros((0, max(ks)), np.int64)
    return SplitResult(replay.positions, {k: torch.cat(v).numpy() for k, v in per_event.items()}, topk, table.shape[0] - 1)


@torch.no_grad()
def replay_evaluation(model: nn.Module, events: pd.DataFrame, n_users: int, ks: list[int], exclude: bool, periods: int,
                      max_len: int, chunk: int, item_chunk: int, device: torch.device) -> tuple[dict[str, float], pd.DataFrame]:
    """metrics.json keys `replay/<metric>@K`, `frozen/<metric>@K` (+ `/events`) and the per-period table."""
    replay = replay_events(events, n_users)
    table = model.item_vectors().float().to(device)
    metrics: dict[str, float] = {}
    results = {}
    for name, frozen in (("replay", False), ("frozen", True)):
        vectors = replay_vectors(model, table, replay, frozen, max_len, chunk)
        results[name] = score_events(vectors, table, replay, ks, exclude, chunk, item_chunk)
        summary = results[name].summary(name, ks)
        summary[f"{name}/events"] = summary.pop(f"{name}/users")
        metrics.update(summary)
    return metrics, period_table(replay, results, periods)


def period_table(replay: ReplayEvents, results: dict[str, SplitResult], periods: int) -> pd.DataFrame:
    """One row per period (equal numbers of events in time order): its span (`start`, `end`: int64 unix
    nanoseconds, so events within one second keep their order) and both protocols' means."""
    order = np.argsort(replay.times, kind="stable")
    if not len(order):
        return pd.DataFrame(columns=["period", "start", "end", "events"])
    rows = []
    for number, part in enumerate(np.array_split(order, max(1, min(periods, len(order)))), start=1):
        row = {"period": number, "start": int(replay.times[part].min()), "end": int(replay.times[part].max()), "events": len(part)}
        for name, result in results.items():
            row.update({f"{name}/{metric}": float(values[part].mean()) for metric, values in result.per_user.items()})
        rows.append(row)
    return pd.DataFrame(rows)
