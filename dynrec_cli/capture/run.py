"""`dynrec capture capture.events=FILE capture.items=FILE`: update the interest store, report drift.

Every check (store identity, unknown items, time order, an interrupted capture of another file)
happens before the first write, so bad input leaves the store as it was. Events are applied in
chunks of `capture.checkpoint_every`; each chunk is committed with the cursor (file hash, events
applied), so a rerun after a crash applies only what the store does not hold yet.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig

from dynrec_cli import artifacts
from dynrec_cli.capture import journal
from dynrec_cli.capture import store as stores
from dynrec_cli.capture.apply import Encoder, Timing, probe_latency, run_chunks
from dynrec_cli.capture.columns import capture_columns
from dynrec_cli.capture.events import NewEvents, read_events
from dynrec_cli.capture.lock import store_lock
from dynrec_cli.data.clock import iso, positions
from dynrec_cli.errors import ArtifactError, DataError
from dynrec_cli.stages.base import StageContext, upstream_fingerprint

log = logging.getLogger(__name__)
CAPTURES = "captures"


def store_folder(ctx: StageContext) -> Path:
    return Path(ctx.cfg.capture.store) if ctx.cfg.capture.store else ctx.run_dir / "store"


def identity(ctx: StageContext) -> dict[str, str]:
    return stores.run_identity(ctx.run_dir, upstream_fingerprint(ctx.run_dir, "prepare"), upstream_fingerprint(ctx.run_dir, "finetune"))


def capture_updates(ctx: StageContext) -> None:
    """Apply `capture.items` then `capture.events` to the run's interest store (made on first use)."""
    cfg = ctx.cfg.capture
    if not cfg.events and not cfg["items"]:
        return
    from dynrec_cli.training.checkpoint import load_model
    from dynrec_cli.training.device import resolve_device

    if ctx.cfg.trainer.threads:
        torch.set_num_threads(int(ctx.cfg.trainer.threads))
    device = resolve_device(ctx.cfg.trainer.device)
    model = load_model(ctx.stage_dir("finetune")).to(device)
    with store_lock(store_folder(ctx), "dynrec capture"):
        store = stores.open_store(store_folder(ctx), identity(ctx)) or seed_store(ctx, model, device)
        _update(ctx, store, model, device)


def _update(ctx: StageContext, store: stores.InterestStore, model: torch.nn.Module, device: torch.device) -> None:
    cfg = ctx.cfg.capture
    waiting = journal.pending(store.folder, store.meta)
    if waiting:  # applying a file first would put it before events acknowledged earlier
        raise ArtifactError(f"{store.folder / journal.FOLDER}: {waiting} events acknowledged by dynrec serve are not in the store yet; "
                            "start dynrec serve on this run once (it applies them as it starts), then capture")
    new_items = _new_items(ctx, store, model, device) if cfg["items"] else None
    known = store.items["item_id"] if new_items is None else pd.concat([store.items["item_id"], new_items[0]["item_id"]])
    columns = capture_columns(ctx.cfg.data, cfg.columns)
    events = read_events(Path(cfg.events), ctx.cfg.data, known, columns) if cfg.events else None
    if events is not None:
        from dynrec_cli.capture.unknown import check_unknown_items
        from dynrec_cli.data.dropped import load_dropped

        check_unknown_items(events, str(cfg.unknown_items), load_dropped(ctx.stage_dir("prepare")), str(columns["item"]))
    plan = _plan(store, events, cfg, str(columns["time"])) if events is not None else None
    # every check has passed: from here on the store is written
    if new_items is not None:
        rows, vectors = new_items
        from dynrec_cli.capture.items import append_items

        figures = append_items(store, rows, vectors)
        stores.commit(store)
        log.info("[capture] %d new items added from text (%d in the store): rankable now", figures["items_added"], figures["items"])
    elif not (store.folder / stores.STORE_JSON).exists():
        stores.commit(store)
    if plan is not None:
        _apply(ctx, store, model, device, *plan)


@torch.no_grad()
def seed_store(ctx: StageContext, model: torch.nn.Module, device: torch.device) -> stores.InterestStore:
    """A store holding each user's window of their whole prepared history (what `capture` computes)."""
    from dynrec_cli.data.sequences import last_window, split_views

    prepared = ctx.prepared()
    table = model.item_vectors().float()
    everything = split_views(prepared.events, prepared.n_users).everything
    items, times = last_window(everything, np.arange(prepared.n_users), getattr(model, "max_len", 1))
    state = stores.UserState(items.numpy(), times.numpy(), torch.zeros(0))
    state.vectors = Encoder(model, table, device, int(ctx.cfg.eval.user_chunk))(state.window_items, state.window_times)
    items_table = prepared.items.assign(item_id=prepared.items["item_id"].astype(str), new=False)
    users = prepared.users[["user_idx", "user_id"]].assign(user_id=lambda f: f["user_id"].astype(str))
    log.info("[capture] new interest store from the run's history: %d users, %d items", len(users), len(items_table))
    return stores.new_store(store_folder(ctx), identity(ctx), users, items_table, state, table.cpu())


def _new_items(ctx: StageContext, store: stores.InterestStore, model: torch.nn.Module, device: torch.device) -> tuple[pd.DataFrame, torch.Tensor] | None:
    from dynrec_cli.capture.items import encode_new_items, read_new_items, require_text_view

    require_text_view(model, str(ctx.cfg.model._target_).rsplit(".", 1)[-1].lower())
    rows = read_new_items(Path(ctx.cfg.capture["items"]), ctx.cfg.data, store.items["item_id"], ctx.cfg.capture.item_id_column)
    if rows.empty:
        log.info("[capture] %s: every item is already in the store", ctx.cfg.capture["items"])
        return None
    vectors = encode_new_items(ctx.cfg, ctx.stage_dir("pretrain"), rows["text"].tolist(), model, device)
    return rows, vectors


def _plan(store: stores.InterestStore, events: NewEvents, cfg: DictConfig, time_column: str) -> tuple[str, dict[str, Any], NewEvents] | None:
    """Cursor bookkeeping and time-order checks; returns (file hash, cursor entry, events to apply)."""
    digest = artifacts.file_hash(events.path)
    entry = store.meta["captures"].get(digest)
    busy = store.meta["in_progress"]
    if entry is not None and entry["done"]:
        log.info("[capture] %s: already applied (capture %d), nothing to do", events.path, entry["capture"])
        return None
    if busy is not None and busy != digest:
        other = store.meta["captures"][busy]
        raise DataError(events.path, f"the capture of {other['path']} stopped at {other['applied']}/{other['rows']} events; "
                        "finish it first (rerun it with the same capture.events)")
    if entry is None:
        entry = {"path": str(events.path), "rows": len(events), "applied": 0, "capture": int(store.meta["captures_run"]) + 1, "done": False}
    remaining = events.tail(int(entry["applied"]))
    check_order(store, remaining, cfg.late_events, time_column)
    return digest, entry, remaining


def check_order(store: stores.InterestStore, events: NewEvents, late: str, time_column: str) -> None:
    """Events older than the user's latest stored event are an error (or skipped: capture.late_events=skip)."""
    known = store.user_index(events.users)
    last = np.where(known >= 0, store.state.last_times()[np.maximum(known, 0)], stores.NO_TIME)
    bad = (events.times < last) & (events.items > 0) if events.has_time else np.zeros(len(events), bool)
    if bad.any() and late == "error":
        j = int(np.argmax(bad))
        raise DataError(events.path, f"event at {iso(events.times[j])} is older than user '{events.users[j]}''s latest stored "
                        f"event ({iso(last[j])})", row=int(events.rows[j]), column=time_column,
                        fix="events must follow what the store holds; capture.late_events=skip drops such events")


def _apply(ctx: StageContext, store: stores.InterestStore, model: torch.nn.Module, device: torch.device,
           digest: str, entry: dict[str, Any], events: NewEvents) -> None:
    cfg, meta = ctx.cfg.capture, store.meta
    if meta["in_progress"] != digest:  # a new capture: remember where every user started
        meta.update(in_progress=digest, captures_run=entry["capture"])
        meta["captures"][digest] = entry
        store.start, store.touched = store.state.vectors.clone(), np.zeros(0, np.int64)
    users, times, keep = place_events(store, events)
    known = events.items > 0  # the others: capture.unknown_items=skip
    encoder = Encoder(model, store.item_vectors.to(device), device, int(ctx.cfg.eval.user_chunk))
    timing = Timing()
    if cfg.mode == "batched" and int(cfg.latency_probe) > 0:
        probe = np.flatnonzero(keep)[: int(cfg.latency_probe)]
        probe_latency(store.state, encoder, users[probe], events.items[probe], times[probe], timing)

    def checkpoint(part: slice, drift: np.ndarray) -> None:
        applied = keep[part]
        segment = pd.DataFrame({"user_idx": users[part][applied], "item_idx": events.items[part][applied], "time": times[part][applied],
                                "drift": drift[applied], "row": events.rows[part][applied], "capture": entry["capture"]})
        store.touched = np.union1d(store.touched, segment["user_idx"].to_numpy())
        entry["applied"] += part.stop - part.start
        entry["skipped"] = int(entry.get("skipped", 0)) + int((~keep[part] & known[part]).sum())  # late
        entry["skipped_unknown"] = int(entry.get("skipped_unknown", 0)) + int((~known[part]).sum())
        stores.commit(store, segment)

    run_chunks(store.state, encoder, users, events.items, times, keep, str(cfg.mode), int(cfg.checkpoint_every), checkpoint, timing)
    figures = {"capture": entry["capture"], "file": entry["path"], "events": int(entry["rows"]), "applied_now": timing.events,
               "skipped_late": int(entry.get("skipped", 0)), "skipped_unknown": int(entry.get("skipped_unknown", 0)),
               "mode": str(cfg.mode), **timing.figures()}
    from dynrec_cli.capture.report import write_report

    write_report(store.folder / CAPTURES / f"{entry['capture']:03d}", store, figures, cfg, events.has_time)
    entry["done"] = True
    meta["in_progress"], store.start = None, None
    stores.commit(store)


def place_events(store: stores.InterestStore, events: NewEvents) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each event's store user index (new users added, empty), its time, and whether it is
    applied (False: an item the store does not know, capture.unknown_items=skip; or older than
    its user's latest stored event, capture.late_events=skip)."""
    known = events.items > 0  # the others are counted, not applied
    fresh = pd.unique(events.users[(store.user_index(events.users) < 0) & known])  # a user with only those is not added
    store.add_users(fresh)
    users = np.maximum(store.user_index(events.users), 0).astype(np.int64)
    if events.has_time:
        times = events.times
    else:  # positions count the applied events only
        times = np.zeros(len(users), np.int64)
        times[known] = _positions(store, users[known])
    late = times < store.state.last_times()[users] if events.has_time else np.zeros(len(users), bool)
    return users, times, known & ~late


def _positions(store: stores.InterestStore, users: np.ndarray) -> np.ndarray:
    """Without timestamps, each new event's time is the next step (one second) of its user's sequence."""
    from dynrec_cli.data.sequences import ragged_arange

    order = np.argsort(users, kind="stable")
    steps = np.empty(len(users), np.int64)
    steps[order] = ragged_arange(np.bincount(users)[np.unique(users[order])]) + 1
    return np.maximum(store.state.last_times()[users], 0) + positions(steps)
