"""What `dynrec rank` reads once a capture has made an interest store: the store's vectors, users
and items (new ones included), and the prepared history extended by the captured events."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dynrec_cli.capture import journal
from dynrec_cli.capture import store as stores
from dynrec_cli.data.types import TEST, PreparedData
from dynrec_cli.errors import ConfigError
from dynrec_cli.stages.base import StageContext

log = logging.getLogger(__name__)
CAPTURED = "captured"


@dataclass
class StoreView:
    prepared: PreparedData  # users and items of the store; events = history + captured events
    user_vectors: torch.Tensor  # (n_users, d)
    item_vectors: torch.Tensor  # (n_items + 1, d)
    touched: np.ndarray  # user indices of the last capture


def store_view(ctx: StageContext) -> StoreView | None:
    """The run's interest store as rank input, or None when no capture has made one."""
    from dynrec_cli.capture.lock import store_lock
    from dynrec_cli.capture.run import identity, store_folder

    with store_lock(store_folder(ctx), "dynrec rank", shared=True):  # a server commits while it runs: refused then
        store = stores.open_store(store_folder(ctx), identity(ctx))
        if store is None:
            return None
        waiting = journal.pending(store.folder, store.meta)
        if waiting:
            log.warning("%s: %d events acknowledged by dynrec serve are not in the store yet (a restart of dynrec serve applies them)",
                        store.folder / journal.FOLDER, waiting)
        return view_of(store, ctx.prepared())


def view_of(store: stores.InterestStore, prepared: PreparedData) -> StoreView:
    """Rank's input from an open store: the prepared history followed by the captured events."""
    captured = stores.read_segments(store)[["user_idx", "item_idx", "time"]].assign(split=TEST)
    events = pd.concat([prepared.events, captured.astype(prepared.events.dtypes.to_dict())], ignore_index=True)
    events = events.iloc[np.argsort(events["user_idx"].to_numpy(), kind="stable")].reset_index(drop=True)
    added = store.items[store.items["new"]].reindex(columns=prepared.items.columns)
    items = pd.concat([prepared.items, added], ignore_index=True) if len(added) else prepared.items
    view = PreparedData(events=events, items=items, users=store.users, has_time=prepared.has_time,
                        category_separators=prepared.category_separators)
    return StoreView(view, store.state.vectors, store.item_vectors, store.touched)


def captured_users(view: StoreView | None) -> np.ndarray:
    """rank.users=captured: the users the last capture touched."""
    if view is None:
        raise ConfigError("rank.users=captured: no capture has touched any user in this run (dynrec capture run_dir=DIR capture.events=FILE)")
    if not len(view.touched):
        raise ConfigError("rank.users=captured: the last capture applied no event (every one skipped or already applied), "
                          "so it touched no user; name them instead: rank.users=[id,...]")
    return view.touched
