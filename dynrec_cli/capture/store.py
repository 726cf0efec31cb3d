"""The interest store: every user's recent window and interest vector, on disk, crash-safe.

Layout of `DIR/store/` (or `capture.store=`):

    store.json                 the commit point: generation, run fingerprints, cursor, file hashes
    gen-<N>/state.safetensors  window_items, window_times (users × max_len, int64 ns), users (users × d),
                               items (items + 1 × d), touched (user indices of the last capture),
                               start (users × d at the start of a capture in progress, if any)
    gen-<N>/users.parquet      user_idx, user_id (new users appended)
    gen-<N>/items.parquet      the prepared catalogue (item_idx, item_id, text, ...) + new; items added from text appended
    events/seg-<N>.parquet     the events applied in checkpoint N (user_idx, item_idx, time, drift, row, capture)

A checkpoint writes a new generation folder and segment (invisible until named), then replaces
`store.json` atomically (temporary file + rename), then deletes what it no longer names. A crash
at any point leaves `store.json` naming one complete generation whose cursor counts exactly the
events it holds: a rerun skips those and applies the rest once.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dynrec_cli import artifacts, run_files
from dynrec_cli.capture.lock import make_lock_file
from dynrec_cli.errors import ArtifactError

STORE_JSON, STATE, USERS, ITEMS, SEGMENTS = "store.json", "state.safetensors", "users.parquet", "items.parquet", "events"
STORE_VERSION = 2  # 2: window_times in nanoseconds (1: seconds)
STATE_TENSORS = ("window_items", "window_times", "users", "items", "touched")
NO_TIME = np.iinfo(np.int64).min
FEW = 32  # user_index: up to this many ids are looked up one by one
# a forgotten user's row keeps its index (later rows and the prepared history stay aligned) under
# this prefix + its tombstone digest: ids are stripped when read, so no real id starts with a space
FORGOTTEN = " forgotten:"


@dataclass
class UserState:
    """What the capture updates: windows (users × max_len, left-padded) and interest vectors."""

    window_items: np.ndarray
    window_times: np.ndarray
    vectors: torch.Tensor

    def copy(self) -> UserState:
        return UserState(self.window_items.copy(), self.window_times.copy(), self.vectors.clone())

    def last_times(self) -> np.ndarray:
        """(users,) time of each user's latest stored event; NO_TIME for an empty window."""
        return np.where(self.window_items[:, -1] > 0, self.window_times[:, -1], NO_TIME)

    def grow(self, extra: int) -> None:
        """Append `extra` users with empty windows and zero vectors."""
        length, dim = self.window_items.shape[1], self.vectors.shape[1]
        self.window_items = np.vstack([self.window_items, np.zeros((extra, length), np.int64)])
        self.window_times = np.vstack([self.window_times, np.zeros((extra, length), np.int64)])
        self.vectors = torch.cat([self.vectors, torch.zeros(extra, dim)])


@dataclass
class InterestStore:
    folder: Path
    meta: dict[str, Any]
    users: pd.DataFrame
    items: pd.DataFrame
    state: UserState
    item_vectors: torch.Tensor  # (n_items + 1, d), row 0 = padding
    touched: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    start: torch.Tensor | None = None  # vectors when the capture in progress began
    _ids: pd.Index | None = field(default=None, repr=False)  # user_id -> position, rebuilt after users change

    def user_index(self, ids: np.ndarray) -> np.ndarray:
        """Store index of each user id, -1 for users the store does not know."""
        if self._ids is None:  # built once per change of the users, not per call (a server looks users up per request)
            self._ids = pd.Index(self.users["user_id"].astype(str))
        if len(ids) <= FEW:  # a few ids (a request): hash look-ups, not an index built from the query
            return np.array([self._ids.get_loc(u) if u in self._ids else -1 for u in ids], dtype=np.int64)
        return self._ids.get_indexer(ids)

    def add_users(self, ids: np.ndarray) -> None:
        """Append new users (ids in first-seen order) with empty state."""
        if not len(ids):
            return
        start = len(self.users)
        rows = pd.DataFrame({"user_idx": np.arange(start, start + len(ids), dtype=np.int64), "user_id": ids.astype(str)})
        self.users = pd.concat([self.users, rows], ignore_index=True)
        self.state.grow(len(ids))
        self._ids = None

    def rename_user(self, index: int, new_id: str) -> None:
        """Replace one user's id (forgetting a user keeps the row, so later indices stay valid)."""
        self.users.loc[index, "user_id"] = new_id
        self._ids = None


def run_identity(run_dir: Path, data_fp: str, model_fp: str) -> dict[str, str]:
    return {"run_dir": str(Path(run_dir).resolve()), "data": data_fp, "model": model_fp}


def new_store(folder: Path, identity: dict[str, str], users: pd.DataFrame, items: pd.DataFrame,
              state: UserState, item_vectors: torch.Tensor) -> InterestStore:
    """An in-memory store (nothing is written until `commit`)."""
    meta = {"store_version": STORE_VERSION, "generation": 0, "run": identity, "files": {}, "segments": [],
            "captures": {}, "in_progress": None, "captures_run": 0}
    return InterestStore(Path(folder), meta, users, items, state, item_vectors)


def open_store(folder: Path, identity: dict[str, str]) -> InterestStore | None:
    """The committed store in `folder`, checked against this run; None when there is none.

    Raises:
        ArtifactError: another store version, another run, another model or data, damaged files.
    """
    folder = Path(folder)
    if not (folder / STORE_JSON).exists():
        return None
    meta = run_files.read_json(folder / STORE_JSON, dict)
    if meta.get("store_version") != STORE_VERSION:
        raise ArtifactError(f"{folder}: interest store version {meta.get('store_version')}, this dynrec reads {STORE_VERSION} (start a new store: capture.store=<new folder>)")
    if (problem := run_files.mismatch(meta, run_files.STORE)) is not None:
        raise ArtifactError(f"{folder / STORE_JSON}: not a dynrec store.json ({problem})")
    check_identity(folder, meta.get("run", {}), identity)
    gen = folder / _gen_name(meta["generation"])
    for name, digest in meta["files"].items():
        if not (gen / name).exists() or artifacts.file_hash(gen / name) != digest:
            raise ArtifactError(f"{gen / name}: missing or does not match {folder / STORE_JSON} (damaged store)")
    tensors = run_files.read_tensors(gen / STATE, STATE_TENSORS)
    users, items = run_files.read_table(gen / USERS, ("user_idx", "user_id")), run_files.read_table(gen / ITEMS, ("item_idx", "item_id"))
    run_files.check_index(gen / USERS, users, "user_idx", "user_id", 0)
    run_files.check_index(gen / ITEMS, items, "item_idx", "item_id", 1)  # row 0 of the item vectors: padding
    run_files.check_rows(gen / STATE, tensors, {"users": len(users), "items": len(items) + 1})
    run_files.check_rows(gen / STATE, tensors, {"window_items": len(users), "window_times": len(users)})
    state = UserState(tensors["window_items"].numpy().copy(), tensors["window_times"].numpy().copy(), tensors["users"])
    return InterestStore(folder, meta, users, items, state, tensors["items"], tensors["touched"].numpy().copy(), tensors.get("start"))


def check_identity(folder: Path, stored: dict[str, str], identity: dict[str, str]) -> None:
    """The store must come from this run's data and model (fingerprints of prepare and finetune)."""
    same_data, same_model = stored.get("data") == identity["data"], stored.get("model") == identity["model"]
    fix = f"delete {folder} to start a store from this run, or set capture.store=<another folder>"
    if not same_data and not same_model:
        raise ArtifactError(f"{folder}: interest store of another run ({stored.get('run_dir', '?')}); {fix}")
    if not same_model:
        raise ArtifactError(f"{folder}: model hash does not match the store's (the run was retrained since); {fix}")
    if not same_data:
        raise ArtifactError(f"{folder}: data hash does not match the store's (prepare ran again since); {fix}")


def commit(store: InterestStore, segment: pd.DataFrame | None = None) -> None:
    """Write a new generation (and the segment of events it adds), then switch store.json to it."""
    from safetensors.torch import save_file

    meta = store.meta
    number = int(meta["generation"]) + 1
    gen = store.folder / _gen_name(number)
    shutil.rmtree(gen, ignore_errors=True)  # left by a crash before its store.json was written
    gen.mkdir(parents=True)
    tensors = {
        "window_items": torch.from_numpy(store.state.window_items), "window_times": torch.from_numpy(store.state.window_times),
        "users": store.state.vectors.float(), "items": store.item_vectors.float(), "touched": torch.from_numpy(store.touched),
    }
    if store.start is not None:
        tensors["start"] = store.start.float()
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(gen / STATE))
    store.users.to_parquet(gen / USERS, index=False)
    store.items.to_parquet(gen / ITEMS, index=False)
    segments = list(meta["segments"])
    if segment is not None and len(segment):
        name = f"{SEGMENTS}/seg-{number:06d}.parquet"
        (store.folder / SEGMENTS).mkdir(exist_ok=True)
        segment.to_parquet(store.folder / name, index=False)
        segments.append(name)
    files = {name: artifacts.file_hash(gen / name) for name in (STATE, USERS, ITEMS)}
    make_lock_file(store.folder)  # from the first commit on, `dynrec serve` and the CLI take turns on it
    artifacts.write_json(store.folder / STORE_JSON, {**meta, "generation": number, "files": files, "segments": segments})
    meta.update(generation=number, files=files, segments=segments)
    _remove_unnamed(store)


def _remove_unnamed(store: InterestStore) -> None:
    keep = store.folder / _gen_name(store.meta["generation"])
    for old in store.folder.glob("gen-*"):
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
    named = set(store.meta["segments"])
    for seg in (store.folder / SEGMENTS).glob("seg-*.parquet"):
        if f"{SEGMENTS}/{seg.name}" not in named:
            seg.unlink(missing_ok=True)


def read_segments(store: InterestStore, capture: int | None = None) -> pd.DataFrame:
    """The applied events (all, or those of capture number `capture`), in application order."""
    columns = ["user_idx", "item_idx", "time", "drift", "row", "capture"]
    parts = [run_files.read_table(store.folder / name, tuple(columns)) for name in store.meta["segments"]]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: pd.Series(dtype="int64") for c in columns})
    return frame if capture is None else frame[frame["capture"] == capture].reset_index(drop=True)


def fingerprint(folder: Path) -> str | None:
    """The committed generation's identity (for the skip check of stages that read the store)."""
    path = Path(folder) / STORE_JSON
    if not path.exists():
        return None
    meta = run_files.read_json(path, run_files.Obj({"generation": int}, {"files": run_files.HASHES}))
    return f"{meta.get('generation')}:{artifacts.config_hash({'files': meta.get('files', {})})}"


def _gen_name(number: int) -> str:
    return f"gen-{int(number):06d}"
