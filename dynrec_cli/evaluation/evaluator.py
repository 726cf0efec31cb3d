"""Full-ranking evaluation of a model on one split, user chunk by user chunk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from rich.progress import track
from torch import Tensor

from dynrec_cli.data.sequences import UserSequences, csr_rows, last_window, padded_targets
from dynrec_cli.evaluation.metrics import compute_user_metrics, item_coverage
from dynrec_cli.models.padding import in_row_tiles, trim_left_padding
from dynrec_cli.ranking.scoring import topk_for_users
from dynrec_cli.training.device import autocast

# cells (users × positions) a CPU encodes at once inside a user chunk: small enough for a tile's
# activations to stay in a core's cache, large enough for efficient matrix products (a GPU takes
# the whole chunk)
CPU_TILE_TOKENS = 6400


@dataclass
class SplitResult:
    """Per-user figures of one split: users (n,), metrics name → (n,), top-K lists (n, K)."""

    users: np.ndarray
    per_user: dict[str, np.ndarray]
    topk: np.ndarray
    n_items: int

    def summary(self, prefix: str, ks: list[int]) -> dict[str, float]:
        if not len(self.users):  # a mean over nobody is not 0: only the count is reported
            return {f"{prefix}/users": 0.0}
        out = {f"{prefix}/{name}": float(values.mean()) for name, values in self.per_user.items()}
        topk = torch.from_numpy(self.topk)
        for k in ks:
            out[f"{prefix}/coverage@{k}"] = item_coverage(topk, k, self.n_items)
        out[f"{prefix}/users"] = float(len(self.users))
        return out


def evaluable_users(history: UserSequences, targets: UserSequences) -> np.ndarray:
    """Users with at least one target and one history event."""
    return np.flatnonzero((targets.lengths() > 0) & (history.lengths() > 0))


@torch.inference_mode()
def evaluate_split(
    model: torch.nn.Module,
    history: UserSequences,
    targets: UserSequences,
    exclude: UserSequences | None,
    ks: list[int],
    max_len: int,
    user_chunk: int,
    item_chunk: int,
    device: torch.device,
    users: np.ndarray | None = None,
    progress: bool = False,
    precision: torch.dtype | None = None,
) -> SplitResult:
    """Rank every item for each evaluable user and score the lists against the targets.

    Args:
        history: what the model reads for each user (its last `max_len` events).
        targets: the held-out events of each user.
        exclude: events never recommended back (usually the whole history), or None.
        users: the users to rank (e.g. one rank's shard); None = every evaluable user.
        progress: show a bar over the user chunks (off inside the training loop's own bar).
        precision: autocast dtype for the model's user and item vectors (None = fp32); the scores
            and the top-K are computed in fp32 either way.
    """
    users = evaluable_users(history, targets) if users is None else users
    with autocast(device, precision):
        item_vecs = model.item_vectors().float()
    tile = CPU_TILE_TOKENS if device.type == "cpu" else user_chunk * max_len
    k = max(ks)
    per_user: dict[str, list[Tensor]] = {}
    lists = []
    # padding-aware: users with histories of similar length share a chunk, cut to its longest
    # one (every model reads left-padded windows from the right; the contract tests check it)
    order = np.argsort(np.minimum(history.lengths()[users], max_len), kind="stable")
    starts = range(0, len(users), user_chunk)
    for start in track(starts, description="ranking users", transient=True, disable=not progress or len(starts) < 2):
        chunk = users[order[start : start + user_chunk]]
        items, times = trim_left_padding(*last_window(history, chunk, max_len))
        with autocast(device, precision):
            user_vecs = in_row_tiles(model.user_vectors, items.to(device), times.to(device), tile).float()
        pairs = None
        if exclude is not None:
            rows, seen = csr_rows(exclude, chunk)
            pairs = (rows.to(device), seen.to(device))
        _, top = topk_for_users(user_vecs, item_vecs, k, item_chunk, pairs)
        for name, values in compute_user_metrics(top.cpu(), padded_targets(targets, chunk), ks).items():
            per_user.setdefault(name, []).append(values)
        lists.append(top.cpu())
    n_items = item_vecs.shape[0] - 1
    if not lists:
        return SplitResult(users, {}, np.zeros((0, k), dtype=np.int64), n_items)
    back = np.argsort(order)  # chunk order -> the order of `users`
    return SplitResult(
        users=users,
        per_user={name: torch.cat(parts).numpy()[back] for name, parts in per_user.items()},
        topk=torch.cat(lists).numpy()[back],
        n_items=n_items,
    )
