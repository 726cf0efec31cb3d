"""The interest store of `dynrec serve`, in memory: batches applied by the capture path, whole.

One writer thread calls `apply`, `add_items`, `forget` and `commit`; request threads call `user`
and `view`. `lock` is held while a batch changes the state and while a reader copies one user's
row, so a reader sees every batch either entirely or not at all. Between commits the applied
events are in the journal (durable) and in `pending` (the next segment); a commit writes a new
store generation with them, records the journal position it holds, and empties the journal.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from dynrec_cli.capture import forget as forgetting
from dynrec_cli.capture import journal as journals
from dynrec_cli.capture import store as stores
from dynrec_cli.capture.apply import Encoder, Timing, run_chunks
from dynrec_cli.capture.events import NewEvents, item_indices
from dynrec_cli.capture.lock import StoreLock
from dynrec_cli.capture.run import check_order, identity, place_events, seed_store, store_folder
from dynrec_cli.capture.view import view_of
from dynrec_cli.data import forgotten
from dynrec_cli.data.sequences import UserSequences, build_sequences
from dynrec_cli.data.types import TEST, TRAIN, VALID, PreparedData
from dynrec_cli.errors import ArtifactError
from dynrec_cli.serving.inbound import Roles
from dynrec_cli.stages.base import StageContext

log = logging.getLogger(__name__)
SERVED = 0  # the `capture` number of segment rows applied by dynrec serve (captures count from 1)


@dataclass
class History:
    """Every user's items in time order: the committed view (CSR) plus the events applied since."""

    base: UserSequences
    forgotten: set[int] = field(default_factory=set)
    extra: dict[int, list[np.ndarray]] = field(default_factory=dict)

    def add(self, users: np.ndarray, items: np.ndarray) -> None:
        for user in np.unique(users):
            self.extra.setdefault(int(user), []).append(items[users == user])

    def of(self, user: int) -> np.ndarray:
        """(n,) the user's item indices, oldest first."""
        base = self.base
        own = base.items[base.indptr[user] : base.indptr[user + 1]] if user < base.n_users and user not in self.forgotten else np.zeros(0, np.int64)
        return np.concatenate([own, *self.extra.get(user, [])])


@dataclass
class UserRead:
    """One user's state, copied under the lock: safe to rank from while the writer goes on."""

    index: int
    vector: Tensor  # (d,)
    seen: np.ndarray  # item indices, oldest first


@dataclass
class View:
    """What reads share between two commits (replaced whole, never changed in place)."""

    prepared: PreparedData  # the store's users and items; events = history + committed captured events
    item_vectors: Tensor  # (n_items + 1, d)
    item_ids: pd.Index  # item ids in index order (position i = item i + 1)
    generation: int


class LiveStore:
    """The run's interest store held by one server process (which holds the store's lock)."""

    def __init__(self, ctx: StageContext, holder: str) -> None:
        from dynrec_cli.training.checkpoint import load_model
        from dynrec_cli.training.device import resolve_device

        self.ctx, self.cfg = ctx, ctx.cfg
        self.lock = threading.Lock()
        self.device = resolve_device(ctx.cfg.trainer.device)
        self.model = load_model(ctx.stage_dir("finetune")).to(self.device)
        folder = store_folder(ctx)
        folder.mkdir(parents=True, exist_ok=True)
        self.store_lock = StoreLock(folder, holder, create=True)
        self.store_lock.acquire()
        try:
            self.store = self._open(folder)
        except BaseException:
            self.store_lock.release()
            raise
        self.journal = journals.Journal(folder)
        self.seq = journals.covered(self.store.meta)
        self.pending: list[tuple[np.ndarray, ...]] = []  # per applied batch: user_idx, item_idx, time, drift, row
        self.applied_total, self.generation = 0, 0
        self._refresh()
        tail = self.journal.entries(self.seq)
        for entry in tail:  # acknowledged before a crash, not committed: apply them as they were applied
            if entry.events:
                self.apply(self._replayed(entry), entry.seq)
            self.seq = entry.seq
        if tail:
            log.info("[serve] replayed %d events of %d acknowledged batches from %s", sum(len(e.events) for e in tail),
                     len(tail), self.journal.folder)
            self.commit()
        self.journal.rotate()  # also drops a last line a crash cut short (it was never acknowledged)

    def _open(self, folder: Path) -> stores.InterestStore:
        store = stores.open_store(folder, identity(self.ctx))
        if store is None:
            store = seed_store(self.ctx, self.model, self.device)
            stores.commit(store)
        busy = store.meta["in_progress"]
        if busy is not None:
            entry = store.meta["captures"][busy]
            raise ArtifactError(f"{folder}: the capture of {entry['path']} stopped at {entry['applied']}/{entry['rows']} events; "
                                "finish it first (rerun it with the same capture.events), then serve")
        return store

    @property
    def roles(self) -> Roles:
        data = self.cfg.data
        return Roles(self.view.prepared.has_time, data.min_rating, data.events)

    def _refresh(self) -> None:
        """After a commit: the read view, the history index and the encoder's item table anew."""
        store = self.store
        view = view_of(store, self.ctx.prepared()).prepared
        gone = {int(i) for i in np.flatnonzero(store.users["user_id"].astype(str).str.startswith(stores.FORGOTTEN).to_numpy())}
        history = History(build_sequences(view.events, len(store.users), (TRAIN, VALID, TEST)), gone)
        encoder = Encoder(self.model, store.item_vectors.to(self.device), self.device, int(self.cfg.eval.user_chunk))
        self.generation += 1
        with self.lock:
            self.view = View(view, store.item_vectors, pd.Index(store.items["item_id"].astype(str)), self.generation)
            self.history, self.encoder = history, encoder

    # -- writes (the writer thread) -----------------------------------------------------------

    def check(self, events: NewEvents) -> None:
        """Refuse a batch the capture path would refuse against the current state (late events)."""
        check_order(self.store, events, str(self.cfg.capture.late_events), "timestamp")

    def apply(self, events: NewEvents, seq: int) -> int:
        """Apply one journaled batch exactly as `dynrec capture` applies a chunk; returns the events applied."""
        cfg = self.cfg.capture
        drift = np.full(len(events), np.nan)

        def keep_drift(part: slice, values: np.ndarray) -> None:
            drift[part] = values

        with self.lock:
            users, times, keep = place_events(self.store, events)
            run_chunks(self.store.state, self.encoder, users, events.items, times, keep, str(cfg.mode), max(len(events), 1),
                       keep_drift, Timing())
            self.history.add(users[keep], events.items[keep])
        self.pending.append((users[keep], events.items[keep], times[keep], drift[keep], np.full(int(keep.sum()), seq, np.int64)))
        self.seq = seq
        self.applied_total += int(keep.sum())
        return int(keep.sum())

    def since_commit(self) -> int:
        return sum(len(p[0]) for p in self.pending)

    def commit(self) -> None:
        """A new store generation holding every applied event; then the journal is emptied."""
        columns = ("user_idx", "item_idx", "time", "drift", "row")
        segment = pd.DataFrame({name: np.concatenate(part) for name, part in zip(columns, zip(*self.pending))}).assign(
            capture=SERVED) if self.pending else None
        self.store.meta[journals.SEQ_KEY] = self.seq
        stores.commit(self.store, segment)
        self.journal.rotate()
        self.pending = []
        self._refresh()

    def add_items(self, rows: pd.DataFrame, vectors: Tensor) -> int:
        """Append new items (ids the store does not know yet) and commit: rankable on return."""
        from dynrec_cli.capture.items import append_items

        fresh = ~rows["item_id"].isin(self.store.items["item_id"].astype(str)).to_numpy()
        if fresh.any():
            with self.lock:
                append_items(self.store, rows[fresh].reset_index(drop=True), vectors[torch.from_numpy(fresh)])
            self.commit()
        return int(fresh.sum())

    def forget(self, user_id: str) -> bool:
        """DELETE /users/{id}: blank the user, commit, scrub segments, reports, journal and rank lists.
        Returns False when the store never knew the user."""
        index = forgetting.locate(self.store, self.ctx.run_dir, user_id)
        if index is None:
            return False
        mark = forgotten.record(self.ctx.run_dir, user_id)
        with self.lock:
            forgetting.blank(self.store, index, mark)
            self.history.forgotten.add(index)
            self.history.extra.pop(index, None)
        self.pending = [tuple(column[p[0] != index] for column in p) for p in self.pending]
        self.commit()  # the previous generation (which held the user) is deleted; the journal is emptied
        forgetting.scrub_files(self.store, index, user_id)
        forgetting.drop_rank_lists(self.ctx.run_dir, user_id)
        return True

    def close(self) -> None:
        """Commit what the journal holds and release the store (a clean shutdown)."""
        try:
            if self.pending:
                self.commit()
        finally:
            self.journal.close()
            self.store_lock.release()

    def _replayed(self, entry: journals.Entry) -> NewEvents:
        users, items, times = (np.array([e[k] for e in entry.events]) for k in range(3))
        rows = np.full(len(users), entry.seq, np.int64)
        known = self.view.item_ids
        indices = item_indices(known, items.astype(str), rows, self.journal.folder, "item_id", "the journal names an item the store does not hold")
        return NewEvents(self.journal.folder, users.astype(str), indices, items.astype(str), times, rows, self.roles.has_time)

    # -- reads (request threads) --------------------------------------------------------------

    def user(self, user_id: str) -> UserRead | None:
        """A copy of one user's vector and history; None for a user the store does not know."""
        with self.lock:
            index = int(self.store.user_index(np.array([user_id]))[0])
            if index < 0:
                return None
            return UserRead(index, self.store.state.vectors[index].clone(), self.history.of(index))

    def figures(self) -> dict[str, Any]:
        with self.lock:
            users = int((~self.store.users["user_id"].astype(str).str.startswith(stores.FORGOTTEN)).sum())
            return {"users": users, "items": len(self.store.items), "events_applied": self.applied_total,
                    "journal_seq": self.seq, "generation": int(self.store.meta["generation"])}
