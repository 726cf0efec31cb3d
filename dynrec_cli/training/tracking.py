"""Experiment tracking (`trainer.tracking=none|tensorboard|mlflow`), written under DIR/tracking/.

Per-epoch loss and valid figures come from the training loop's `on_epoch` callback; the final
valid/test figures from `evaluate`. Both back-ends are optional packages, imported only when chosen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from dynrec_cli.errors import ConfigError

TRACKING_DIR = "tracking"
KINDS = ("none", "tensorboard", "mlflow")


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
            raise ConfigError("trainer.tracking=tensorboard needs the tensorboard package: pip install 'dynrec[track]'") from None
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
            raise ConfigError("trainer.tracking=mlflow needs the mlflow package: pip install mlflow") from None
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


def make_tracker(kind: str, run_dir: Path) -> Tracker:
    """The tracker `trainer.tracking` names, writing under run_dir/tracking."""
    if kind not in KINDS:
        raise ConfigError(f"trainer.tracking={kind}: choose one of {', '.join(KINDS)}")
    if kind == "none":
        return Tracker()
    folder = Path(run_dir) / TRACKING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return TensorBoardTracker(folder) if kind == "tensorboard" else MLflowTracker(folder)


@contextlib.contextmanager
def open_tracker(kind: str, run_dir: Path) -> Iterator[Tracker]:
    tracker = make_tracker(kind, run_dir)
    try:
        yield tracker
    finally:
        tracker.close()


def check_tracking(kind: str) -> None:
    """Fail before any work when `trainer.tracking` is unknown or its package is missing."""
    import importlib.util

    if kind not in KINDS:
        raise ConfigError(f"trainer.tracking={kind}: choose one of {', '.join(KINDS)}")
    needs = {"tensorboard": ("tensorboard", "pip install 'dynrec[track]'"), "mlflow": ("mlflow", "pip install mlflow")}
    if kind in needs and importlib.util.find_spec(needs[kind][0]) is None:
        raise ConfigError(f"trainer.tracking={kind} needs the {needs[kind][0]} package: {needs[kind][1]}")
