"""The training loop: ours, explicit and short. AdamW steps over shuffled windows, a valid
evaluation every few epochs, early stopping on the objective, the best weights kept."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from torch import Tensor, nn

from dynrec_cli.training.device import autocast

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = float("-inf")
    stopped: str = "epochs"
    train_seconds: float = 0.0


@dataclass
class LoopSettings:
    epochs: int
    batch_size: int
    patience: int
    objective: str
    eval_every: int
    grad_clip: float | None
    max_minutes: float | None
    seed: int


def fit(
    model: nn.Module,
    windows: tuple[Tensor, Tensor, Tensor],
    validate: Callable[[nn.Module], dict[str, float]],
    make_optimizer: Callable[..., torch.optim.Optimizer],
    settings: LoopSettings,
    device: torch.device,
    amp_dtype: torch.dtype | None,
) -> FitResult:
    """Train `model` on (inputs, targets, times) windows; returns the history, best weights loaded."""
    inputs, targets, times = windows
    # a model may ask for per-group learning rates (adapter=lora: the LoRA weights get their own)
    optimizer = make_optimizer(model.param_groups() if hasattr(model, "param_groups") else model.parameters())
    generator = torch.Generator().manual_seed(settings.seed)
    result, best_state, since_best = FitResult(), None, 0
    started = time.perf_counter()
    n_batches = -(-len(inputs) // settings.batch_size)
    with Progress(
        TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[valid]}"), TimeElapsedColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("train", total=n_batches, epoch=1, loss=0.0, valid="")
        for epoch in range(1, settings.epochs + 1):
            epoch_start = time.perf_counter()
            progress.update(task, completed=0, epoch=epoch)
            model.train()
            order = torch.randperm(len(inputs), generator=generator)
            total = 0.0
            for step, begin in enumerate(range(0, len(order), settings.batch_size), start=1):
                batch = order[begin : begin + settings.batch_size]
                with autocast(device, amp_dtype):
                    loss = model.loss(inputs[batch].to(device), targets[batch].to(device), times[batch].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if settings.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
                optimizer.step()
                total += loss.item()  # CPU-GPU sync point, once per step
                progress.update(task, advance=1, loss=total / step)
            if hasattr(model, "end_epoch"):  # e.g. adapter=lora re-encodes the catalogue before evaluation
                with autocast(device, amp_dtype):
                    model.end_epoch()
            record = {"epoch": epoch, "loss": total / max(n_batches, 1), "epoch_seconds": time.perf_counter() - epoch_start}
            if epoch % settings.eval_every == 0 or epoch == settings.epochs:
                model.eval()
                record.update(validate(model))
                score = record[settings.objective]
                progress.update(task, valid=f"{settings.objective} {score:.4f}")
                if score > result.best_score:
                    result.best_score, result.best_epoch, since_best = score, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    since_best += 1
            record["elapsed_seconds"] = time.perf_counter() - started
            result.history.append(record)
            log.info("epoch %d  loss %.4f  %s", epoch, record["loss"], _valid_text(record, settings.objective))
            if since_best >= settings.patience:
                result.stopped = f"early stop: {settings.patience} evaluations without a better {settings.objective}"
                break
            if settings.max_minutes and time.perf_counter() - started > settings.max_minutes * 60:
                result.stopped = f"time budget of {settings.max_minutes} min"
                break
    result.train_seconds = time.perf_counter() - started
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result


def _valid_text(record: dict[str, float], objective: str) -> str:
    return f"{objective} {record[objective]:.4f}" if objective in record else ""
