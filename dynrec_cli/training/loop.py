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

from dynrec_cli.training import distributed
from dynrec_cli.training.device import autocast
from dynrec_cli.training.resume import ResumePoint

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = float("-inf")
    stopped: str = "epochs"  # why training stopped: epochs (the limit), patience or max_minutes (STOP_KEYS)
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
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    resume: ResumePoint | None = None,
) -> FitResult:
    """Train `model` on (inputs, targets, times) windows; returns the history, best weights loaded.

    With `resume`, the loop state is saved after each epoch and a saved state of the same stage
    is restored first, so a killed run carries on after its last complete epoch.
    """
    inputs, targets, times = windows
    # a model may ask for per-group learning rates (adapter=lora: the LoRA weights get their own)
    optimizer = make_optimizer(model.param_groups() if hasattr(model, "param_groups") else model.parameters())
    generator = torch.Generator().manual_seed(settings.seed)
    result, best_state, since_best = FitResult(), None, 0
    started, first = time.perf_counter(), 1
    if resume is not None and (restored := resume.restore(model, optimizer, generator)) is not None:
        result, best_state, since_best = restored.result, restored.best_state, restored.since_best
        first = restored.epoch + 1 if result.stopped == "epochs" else settings.epochs + 1
        started -= result.train_seconds  # the time budget counts the killed run's epochs too
    n_batches = -(-len(inputs) // settings.batch_size)
    step_loss = distributed.BatchLoss(model, windows, device)  # under torchrun: this rank's shard, DDP
    with Progress(
        TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[valid]}"), TimeElapsedColumn(),
        transient=True, disable=not distributed.is_main(),
    ) as progress:
        task = progress.add_task("train", total=n_batches, epoch=1, loss=0.0, valid="")
        for epoch in range(first, settings.epochs + 1):
            epoch_start = time.perf_counter()
            progress.update(task, completed=0, epoch=epoch)
            model.train()
            order = torch.randperm(len(inputs), generator=generator)
            total = 0.0
            for step, begin in enumerate(range(0, len(order), settings.batch_size), start=1):
                batch = order[begin : begin + settings.batch_size]
                with autocast(device, amp_dtype):
                    loss = step_loss(batch)
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
            record = {"epoch": epoch, "loss": distributed.mean_over_ranks(total) / max(n_batches, 1), "epoch_seconds": time.perf_counter() - epoch_start}
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
            if on_epoch is not None:  # e.g. trainer.tracking: TensorBoard / MLflow
                on_epoch(record)
            log.info("epoch %d  loss %.4f  %s", epoch, record["loss"], _valid_text(record, settings.objective))
            if since_best >= settings.patience:
                result.stopped = "patience"
            elif settings.max_minutes and distributed.any_rank(time.perf_counter() - started > settings.max_minutes * 60):
                result.stopped = "max_minutes"
            if resume is not None:  # a kill from here on resumes after this epoch
                result.train_seconds = time.perf_counter() - started
                resume.save(epoch, model, optimizer, generator, result, best_state, since_best)
            if result.stopped != "epochs":
                break
    result.train_seconds = time.perf_counter() - started
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result


def stop_reason(stopped: str, settings: LoopSettings, epochs_run: int) -> str:
    """Why training stopped, in words naming the key that decided it.

    stopped: FitResult.stopped; a state saved by an older version (a sentence) is returned as it is."""
    if stopped == "epochs":
        return f"epoch limit: trainer.epochs={settings.epochs} reached"
    if stopped == "patience":
        return (f"early stopping: no better {settings.objective} in the last {_count(settings.patience, 'evaluation')} "
                f"(trainer.patience={settings.patience})")
    if stopped == "max_minutes":
        return f"time budget: trainer.max_minutes={settings.max_minutes} spent after {_count(epochs_run, 'epoch')}"
    return stopped


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _valid_text(record: dict[str, float], objective: str) -> str:
    return f"{objective} {record[objective]:.4f}" if objective in record else ""
