"""Experiment tracking (`trainer.tracking=none|tensorboard|mlflow|wandb`), written under DIR/tracking/.

Per-epoch loss and valid figures come from the training loop's `on_epoch` callback; the final
valid/test figures from `evaluate`. The back-ends are optional packages, imported only when chosen.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dynrec_cli import artifacts
from dynrec_cli.errors import ConfigError

TRACKING_DIR = "tracking"
KINDS = ("none", "tensorboard", "mlflow", "wandb")
# the package each back-end needs, and how to install it
NEEDS = {"tensorboard": ("tensorboard", "pip install 'dynrec[track]'"), "mlflow": ("mlflow", "pip install mlflow"),
         "wandb": ("wandb", "pip install 'dynrec[track]'")}


class Tracker:
    """Does nothing: `trainer.tracking=none`."""

    def log_epoch(self, record: Mapping[str, float]) -> None:
        """One epoch's record: `epoch`, `loss`, and the valid figures when it was evaluated."""

    def log_final(self, metrics: Mapping[str, float]) -> None:
        """The evaluation's figures, logged once."""

    def close(self) -> None:
        pass


def _numbers(record: Mapping[str, object]) -> dict[str, float]:
    return {k: float(v) for k, v in record.items() if isinstance(v, (int, float)) and k != "epoch"}


class TensorBoardTracker(Tracker):
    """Event files in DIR/tracking/tensorboard (`tensorboard --logdir DIR/tracking/tensorboard`)."""

    def __init__(self, folder: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError(f"trainer.tracking=tensorboard needs the tensorboard package: {NEEDS['tensorboard'][1]}") from None
        self.writer = SummaryWriter(log_dir=str(folder / "tensorboard"))

    def log_epoch(self, record: Mapping[str, float]) -> None:
        for key, value in _numbers(record).items():
            self.writer.add_scalar(key if "/" in key else f"train/{key}", value, int(record["epoch"]))

    def log_final(self, metrics: Mapping[str, float]) -> None:
        for key, value in _numbers(metrics).items():
            self.writer.add_scalar(f"final/{key}", value, 0)

    def close(self) -> None:
        self.writer.close()


class MLflowTracker(Tracker):
    """A local file store in DIR/tracking/mlruns (`mlflow ui --backend-store-uri DIR/tracking/mlruns`)."""

    def __init__(self, folder: Path) -> None:
        try:
            import mlflow
        except ImportError:
            raise ConfigError(f"trainer.tracking=mlflow needs the mlflow package: {NEEDS['mlflow'][1]}") from None
        self.client = mlflow.tracking.MlflowClient(tracking_uri=(folder / "mlruns").resolve().as_uri())
        experiment = self.client.get_experiment_by_name("dynrec")
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment("dynrec")
        runs = self.client.search_runs([experiment_id], max_results=1)
        self.run_id = runs[0].info.run_id if runs else self.client.create_run(experiment_id).info.run_id

    @staticmethod
    def _key(key: str) -> str:
        return key.replace("@", "_at_")  # MLflow metric names allow letters, digits, _ - . / and space

    def log_epoch(self, record: Mapping[str, float]) -> None:
        for key, value in _numbers(record).items():
            self.client.log_metric(self.run_id, self._key(key), value, step=int(record["epoch"]))

    def log_final(self, metrics: Mapping[str, float]) -> None:
        for key, value in _numbers(metrics).items():
            self.client.log_metric(self.run_id, self._key(f"final/{key}"), value)


class WandbTracker(Tracker):
    """A Weights & Biases run with its local files in DIR/tracking/wandb: online it uploads as it
    goes; with WANDB_MODE=offline they stay there (`wandb sync DIR/tracking/wandb/offline-run-*`).
    Training and evaluation log into the same W&B run: its id is kept in DIR/tracking/wandb-run-id.
    The project is $WANDB_PROJECT (default `dynrec`); the run's name is the run folder."""

    def __init__(self, folder: Path, run_dir: Path, config: Mapping[str, Any] | None) -> None:
        try:
            import wandb
        except ImportError:
            raise ConfigError(f"trainer.tracking=wandb needs the wandb package: {NEEDS['wandb'][1]}") from None
        id_file = folder / "wandb-run-id"
        if not id_file.exists():
            with artifacts.atomic_path(id_file) as tmp:
                tmp.write_text(secrets.token_hex(8))  # W&B run ids: letters and digits
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT") or "dynrec", id=id_file.read_text().strip(), resume="allow",
            name=str(run_dir), dir=str(folder), config=dict(config or {}),
            settings=wandb.Settings(console="off"),  # W&B would wrap stdout, where the CLI's own logging goes
        )

    def log_epoch(self, record: Mapping[str, float]) -> None:
        figures = {key if "/" in key else f"train/{key}": value for key, value in _numbers(record).items()}
        self.run.log(figures, step=int(record["epoch"]))

    def log_final(self, metrics: Mapping[str, float]) -> None:
        self.run.summary.update({f"final/{key}": value for key, value in _numbers(metrics).items()})

    def close(self) -> None:
        self.run.finish()


def make_tracker(kind: str, run_dir: Path, config: Mapping[str, Any] | None = None) -> Tracker:
    """The tracker `trainer.tracking` names, writing under run_dir/tracking; `config` (the
    composed config) goes to the back-ends that record one (wandb)."""
    if kind not in KINDS:
        raise ConfigError(f"trainer.tracking={kind}: choose one of {', '.join(KINDS)}")
    if kind == "none":
        return Tracker()
    folder = Path(run_dir) / TRACKING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "wandb":
        return WandbTracker(folder, run_dir, config)
    return TensorBoardTracker(folder) if kind == "tensorboard" else MLflowTracker(folder)


@contextlib.contextmanager
def open_tracker(kind: str, run_dir: Path, config: Mapping[str, Any] | None = None) -> Iterator[Tracker]:
    tracker = make_tracker(kind, run_dir, config)
    try:
        yield tracker
    finally:
        tracker.close()


def check_tracking(kind: str) -> None:
    """Fail before any work when `trainer.tracking` is unknown or its package is missing."""
    import importlib.util

    if kind not in KINDS:
        raise ConfigError(f"trainer.tracking={kind}: choose one of {', '.join(KINDS)}")
    if kind in NEEDS and importlib.util.find_spec(NEEDS[kind][0]) is None:
        raise ConfigError(f"trainer.tracking={kind} needs the {NEEDS[kind][0]} package: {NEEDS[kind][1]}")
