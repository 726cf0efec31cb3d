"""Data-parallel training on torch's DDP, started by torchrun.

`torchrun --nproc_per_node=N -m dynrec_cli train …` sets WORLD_SIZE, RANK, LOCAL_RANK and the
rendezvous address; `session` joins the process group from them (gloo for CPU tensors, NCCL for
CUDA ones). What each rank does:

- every rank holds the same training windows and draws the same permutation each epoch; each
  global batch of `trainer.batch_size` windows is cut into one contiguous shard per rank;
- a rank's loss is its positions' summed loss over the global batch's position count (times the
  world size, as DDP averages gradients), so N ranks make the update one process makes on the
  whole batch, up to float reassociation;
- dropout draws the whole global batch's masks on every rank and keeps the shard's rows
  (models/dropout.py), so the masks, and every later random draw, are the one process's;
- validation users are sharded and the per-user figures summed across ranks (no duplicates);
- rank 0 alone runs the other stages and writes every file; the others wait for it.

Without WORLD_SIZE > 1 every helper here is a no-op and nothing is imported from
`torch.distributed`'s process group.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn

from dynrec_cli.models.dropout import global_batch
from dynrec_cli.models.padding import real_width

T = TypeVar("T")
_solo = False  # inside `on_main`'s work: rank 0 acts as a single process (no collectives)


def active() -> bool:
    """Whether this process is one rank of a started process group (and not working alone)."""
    return dist.is_available() and dist.is_initialized() and not _solo


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    return rank() == 0


@contextlib.contextmanager
def session() -> Iterator[None]:
    """Join the process group torchrun describes (WORLD_SIZE > 1), and leave it at the end."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or active():
        yield
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        backend = "cpu:gloo,cuda:nccl"  # CPU tensors (validation sums) go through gloo
    else:
        backend = "gloo"
    dist.init_process_group(backend)
    if not is_main():  # one voice: rank 0 logs, the others only warn
        logging.getLogger().setLevel(logging.WARNING)
    try:
        yield
        # leave together: a rank tearing gloo down while another still works (rank 0 writes the
        # run's records after the last stage) can abort the process at exit
        gc.collect()  # DDP wrappers that hold the group, freed while it is still whole
        dist.barrier()
    finally:
        dist.destroy_process_group()


def local_device(device: torch.device) -> torch.device:
    """A rank's own GPU (LOCAL_RANK) when training on CUDA; `device` otherwise."""
    if active() and device.type == "cuda":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def broadcast(value: T) -> T:
    """Rank 0's `value` on every rank (any picklable object)."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def on_main(work: Callable[[], T]) -> T:
    """Run `work` on rank 0 only, as a single process; every rank returns its result, or raises
    its exception. The other ranks wait meanwhile (a barrier)."""
    if not active():
        return work()
    from dynrec_cli.errors import DynrecError

    outcome: tuple[Any, str | None, bool] = (None, None, False)
    failure: BaseException | None = None
    if is_main():
        try:
            outcome = (_alone(work), None, False)
        except Exception as exc:  # told to the waiting ranks, then raised here with its traceback
            failure, outcome = exc, (None, str(exc), isinstance(exc, DynrecError))
    result, message, ours = broadcast(outcome)
    if failure is not None:
        raise failure
    if message is not None:  # the same one-line message on every rank (exit 2 for our errors)
        raise DynrecError(message) if ours else RuntimeError(f"rank 0 failed: {message}")
    return result


def _alone(work: Callable[[], T]) -> T:
    global _solo
    _solo = True
    try:
        return work()
    finally:
        _solo = False


def any_rank(flag: bool) -> bool:
    """True on every rank when `flag` is true on any (keeps stopping decisions in step)."""
    if not active():
        return flag
    value = torch.tensor([int(flag)])
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def mean_over_ranks(value: float) -> float:
    if not active():
        return value
    total = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(total)
    return float(total.item()) / world_size()


def shard_users(users: np.ndarray) -> np.ndarray:
    """This rank's contiguous share of `users` (shares differ in size by at most one)."""
    return np.array_split(users, world_size())[rank()] if active() else users


def global_means(per_user: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean of each per-user figure over the users of every rank's shard.

    Names come from rank 0 (a rank with no users contributes nothing).
    """
    if not active():
        return {name: float(values.mean()) for name, values in per_user.items()}
    names = broadcast(sorted(per_user))
    sums = torch.tensor(
        [[float(per_user[n].sum()), float(len(per_user[n]))] if n in per_user else [0.0, 0.0] for n in names],
        dtype=torch.float64,
    ).reshape(len(names), 2)
    dist.all_reduce(sums)
    return {name: float(s / max(c, 1.0)) for name, (s, c) in zip(names, sums.tolist())}


class _LossModule(nn.Module):
    """DDP syncs gradients of what runs through `forward`; our models train through `loss`."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor, targets: Tensor, times: Tensor) -> Tensor:
        return self.model.loss(inputs, targets, times)


class BatchLoss:
    """The loss of one global batch of window indices, taken on this rank's shard.

    Args:
        model: the model to train (its `loss(inputs, targets, times)` is a mean over positions
            with a target, targets > 0).
        windows: (inputs, targets, times), each (n_windows, L), the same on every rank.
        device: where the model lives.
    """

    def __init__(self, model: nn.Module, windows: tuple[Tensor, Tensor, Tensor], device: torch.device) -> None:
        self.model, self.windows, self.device = model, windows, device
        self.ddp: nn.Module | None = None
        if active():
            ddp = nn.parallel.DistributedDataParallel
            # buffers (item counts, text tables) are identical on every rank: never re-sent per step
            # (the keyword was renamed in torch 2.13)
            no_sync = "forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(ddp).parameters else "broadcast_buffers"
            # static_graph: a model may hold parameters a loss never touches (e.g. the ID table of a
            # text-only DynRec)
            self.ddp = ddp(_LossModule(model), device_ids=[device.index] if device.type == "cuda" else None,
                           static_graph=True, **{no_sync: False})

    def __call__(self, batch: Tensor) -> Tensor:
        inputs, targets, times = self.windows
        if self.ddp is None:
            return self.model.loss(inputs[batch].to(self.device), targets[batch].to(self.device), times[batch].to(self.device))
        shards = batch.tensor_split(world_size())
        shard, start = shards[rank()], sum(len(s) for s in shards[: rank()])
        positions = int((targets[batch] > 0).sum())
        # a shard left empty by a short last batch still steps through DDP, with no weight
        weight = float((targets[shard] > 0).sum()) * world_size() / positions if len(shard) else 0.0
        shard, start = (shard, start) if len(shard) else (batch[:1], 0)
        to = lambda t: t[shard].to(self.device)  # noqa: E731
        # dropout masks drawn for the whole batch, this shard's rows kept: the one-process masks
        with global_batch(len(batch), start, real_width(inputs[batch], targets[batch])):
            return self.ddp(to(inputs), to(targets), to(times)) * weight
