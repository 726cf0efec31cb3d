"""Forgetting a user: out of the interest store, its snapshots, its journal and rank's lists.

Used by `DELETE /users/{id}` (dynrec serve, on its open store) and `dynrec forget` (offline).
Order, so that a crash part-way leaves the tombstone and a rerun finishes the job: the tombstone
(`DIR/forgotten.json`, read by the next `prepare`), then a new store generation with the user's
row blanked (the id replaced by `FORGOTTEN` + digest, window and vector zeroed; the previous
generation is deleted by the commit), then the captured-event segments and the capture reports
rewritten without them, the journal without their events, and rank's lists removed when they name
the user. What stays until `dynrec train` runs again: the run's prepared data and the model
trained on it (`prepare/`, `finetune/`, `capture/`, `evaluate/`), which the tombstone cleans.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dynrec_cli import artifacts, run_files
from dynrec_cli.capture import store as stores
from dynrec_cli.data import forgotten
from dynrec_cli.errors import ConfigError
from dynrec_cli.stages.base import StageContext

log = logging.getLogger(__name__)
RANK_LISTS = ("recommendations.parquet", "recommendations.csv", "recommendations.jsonl")


def locate(store: stores.InterestStore, run_dir: Path, user_id: str) -> int | None:
    """The user's store index, also once forgotten (found by its tombstone); None if never there."""
    index = int(store.user_index(np.array([user_id]))[0])
    if index < 0:
        salt, _ = forgotten.load(run_dir)
        index = int(store.user_index(np.array([stores.FORGOTTEN + forgotten.digest(salt, user_id)]))[0])
    return index if index >= 0 else None


def blank(store: stores.InterestStore, index: int, mark: str) -> None:
    """In memory: the user's id becomes a placeholder, their window and vector are zeroed."""
    store.rename_user(index, stores.FORGOTTEN + mark)
    store.state.window_items[index] = 0
    store.state.window_times[index] = 0
    store.state.vectors[index] = 0.0
    if store.start is not None and index < len(store.start):
        store.start[index] = 0.0
    store.touched = store.touched[store.touched != index]


def scrub_files(store: stores.InterestStore, index: int, user_id: str) -> None:
    """After the blanked store is committed: every segment and capture report without the user."""
    for name in store.meta["segments"]:
        path = store.folder / name
        frame = run_files.read_table(path, ("user_idx",))
        if (frame["user_idx"] == index).any():
            with artifacts.atomic_path(path) as tmp:
                frame[frame["user_idx"] != index].to_parquet(tmp, index=False)
    for report in sorted((store.folder / "captures").glob("[0-9]*")):
        _scrub_report(report, index, user_id)


def _scrub_report(folder: Path, index: int, user_id: str) -> None:
    """A capture report's drift tables without the user's row, its vector zeroed, hashes renewed."""
    from safetensors.torch import save_file

    manifest = artifacts.load_manifest(folder)
    if manifest is None:
        return
    drift = run_files.read_table(folder / "drift.parquet", ("user_idx",))
    drift = drift[drift["user_idx"] != index]
    with artifacts.atomic_path(folder / "drift.parquet") as tmp:
        drift.to_parquet(tmp, index=False)
    with artifacts.atomic_path(folder / "drift.csv") as tmp:
        drift.to_csv(tmp, index=False)
    tensors = run_files.read_tensors(folder / "interests.safetensors", ("users",))
    if index < len(tensors["users"]):
        tensors["users"][index] = 0.0
    with artifacts.atomic_path(folder / "interests.safetensors") as tmp:
        save_file(tensors, str(tmp))
    figures: dict[str, Any] = manifest.get("figures", {})
    figures["top_movers"] = [m for m in figures.get("top_movers", []) if str(m["user_id"]) != user_id]
    manifest["outputs"] = {name: artifacts.file_hash(folder / name) for name in manifest["outputs"] if name != artifacts.MANIFEST}
    artifacts.write_json(folder / artifacts.MANIFEST, manifest)


def drop_rank_lists(run_dir: Path, user_id: str) -> bool:
    """Remove `DIR/rank/` when its lists name the user (the next `dynrec rank` writes them again)."""
    folder = Path(run_dir) / "rank"
    for name in RANK_LISTS:
        path = folder / name
        if not path.exists():
            continue
        if name.endswith(".parquet"):
            ids = run_files.read_table(path, ("user_id",))["user_id"]
        elif name.endswith(".csv"):
            ids = pd.read_csv(path, usecols=["user_id"], dtype=str)["user_id"]
        else:
            ids = pd.read_json(path, lines=True, dtype={"user_id": str})["user_id"]
        if (ids.astype(str) == user_id).any():
            shutil.rmtree(folder)
            log.info("[forget] %s named the user: removed (dynrec rank writes it again)", folder)
            return True
    return False


def forget_offline(ctx: StageContext, user_id: str) -> str:
    """`dynrec forget run_dir=DIR user=ID`: everything above on the run's store, with the store locked.

    Returns:
        a one-line summary.

    Raises:
        ConfigError: the id is in neither the run's data, its store nor its journal (and has no tombstone).
        ArtifactError: a running `dynrec serve` holds the store (use its DELETE /users/{id}).
    """
    from dynrec_cli.capture.journal import Journal
    from dynrec_cli.capture.lock import store_lock
    from dynrec_cli.capture.run import identity, store_folder

    folder = store_folder(ctx)
    with store_lock(folder, "dynrec forget"):
        store = stores.open_store(folder, identity(ctx))
        index = locate(store, ctx.run_dir, user_id) if store is not None else None
        journal = Journal(folder)
        in_journal = any(str(e[0]) == user_id for entry in journal.entries() for e in entry.events)
        in_data = bool((ctx.prepared().users["user_id"].astype(str) == user_id).any())
        salt, marks = forgotten.load(ctx.run_dir)
        if index is None and not in_journal and not in_data:
            if forgotten.digest(salt, user_id) in marks:
                return f"user {user_id}: already forgotten"
            raise ConfigError(f"user={user_id}: not in the run's data, its interest store or its journal (ids are the run's own, as in prepare/users.parquet)")
        mark = forgotten.record(ctx.run_dir, user_id)
        if store is not None and index is not None:
            blank(store, index, mark)
            stores.commit(store)
            scrub_files(store, index, user_id)
        dropped = journal.drop_user(user_id)
        lists = drop_rank_lists(ctx.run_dir, user_id)
    return (f"user {user_id} forgotten: {'store row blanked, ' if index is not None else ''}{dropped} journal events removed"
            f"{', rank lists removed' if lists else ''}; tombstone in {ctx.run_dir / forgotten.TOMBSTONES} "
            "(the next dynrec train leaves the user out)")
