"""What a pipeline verb does, for the CLI and the Python API alike: compose the config (the run
folder's recorded overrides first), check it, run the stages, apply the evaluation gates.

Everything up to `run_task` reads configs only (Hydra, OmegaConf): a typo or a bad value is
refused before torch, transformers or pandas are imported. Errors are raised, never printed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dynrec_cli.errors import ArtifactError, ConfigError, DynrecError
from dynrec_cli.run_overrides import override_key, recorded_file, with_recorded as with_run_overrides

if TYPE_CHECKING:
    import pandas as pd
    from omegaconf import DictConfig


@dataclass
class Outcome:
    """What a verb left: its run folder (None when torchrun's rank 0 chose it), the run's
    metrics, the failed gates (one line each) and the comparison with `--baseline`."""

    run_dir: Path | None
    metrics: dict[str, Any]
    failed: list[str] = field(default_factory=list)
    comparison: pd.DataFrame | None = None  # compare_runs' rows: baseline and this run, per key
    comparison_table: list[list[str]] = field(default_factory=list)  # header + one row per gated key


def compose(verb: str, overrides: Sequence[str], config_dir: str | os.PathLike[str] | None = None, *,
            check: bool = True) -> DictConfig:
    """`verb`'s config as the command would run it: the overrides recorded in `run_dir=`, then
    `overrides`; struct mode on (an unknown key is a ConfigError). `check`: the values too, as
    before a run (off for printing a config that is still incomplete, e.g. a `???`)."""
    return compose_run(verb, list(overrides), config_dir, check)[1]


def compose_run(verb: str, given: list[str], config_dir: str | os.PathLike[str] | None,
                check: bool = True, classes: bool = True) -> tuple[list[str], DictConfig]:
    """The run's recorded overrides and the given ones, and their composed config. A name the
    allowlist refuses (targets.py) that a recorded override set is blamed on DIR/overrides.json.
    `classes=False`: the classes the config builds are checked as names only (the caller imports
    them later: `targets.check_classes`)."""
    from dynrec_cli.cli import _hydra
    from dynrec_cli.targets import Refused

    if verb not in _hydra.VERBS:
        raise ConfigError(f"{verb}: not a dynrec command; choose one of {', '.join(_hydra.VERBS)}")
    overrides = with_run_overrides(given)
    try:
        cfg = _hydra.compose_config(verb, overrides, _folder(config_dir))
    except Refused as exc:
        recorded = overrides[: len(overrides) - len(given)]
        def closeness(o: str) -> int:  # the key itself, then the nearest group above it, then a key below it
            key = override_key(o)
            if key == exc.path or exc.path.startswith(f"{key}."):
                return len(key) + 1
            return 0 if key.startswith(f"{exc.path}.") else -1

        source = max((o for o in overrides if closeness(o) >= 0), key=closeness, default=None)
        if source in recorded:
            raise ArtifactError(f"{recorded_file(given)}: recorded override '{source.split('=', 1)[0]}': {exc}") from None
        raise
    if check:  # values before torch is imported: a bad one is refused in well under a second
        from dynrec_cli.config_checks import validate_config

        validate_config(cfg, classes=classes)
    return overrides, cfg


def _folder(path: str | os.PathLike[str] | None, name: str = "config_dir") -> Path | None:
    from dynrec_cli.api.arguments import folder

    return folder(path, name)


def execute(
    verb: str,
    overrides: Sequence[str],
    *,
    config_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    fail_under: Mapping[str, float] | None = None,
    baseline: str | os.PathLike[str] | None = None,
    max_drop: Sequence[str] = (),
) -> Outcome:
    """Run `verb` once (what `dynrec VERB overrides...` does) and check the gates.

    A run folder given as `run_dir=` must hold a trained run for capture, rank and evaluate;
    without one the folder is runs/VERB/<time>, chosen here so that the caller knows it.
    Gates that fail are returned in `Outcome.failed`, not raised.
    """
    from dynrec_cli.evaluation.gate_keys import check_floor

    gates = {}
    for key, floor in (fail_under or {}).items():
        try:
            gates[str(key)] = float(floor)
        except (TypeError, ValueError):
            raise ConfigError(f"--fail-under {key}={floor}: expected KEY=NUMBER, e.g. test/ndcg@10=0.05") from None
    for key, floor in gates.items():  # a limit that decides nothing (NaN, <= 0, > 1 for a rate) is refused
        check_floor(f"{key}={floor}", key, floor)
    overrides, cfg = compose_run(verb, list(overrides), config_dir, classes=False)
    if int(os.environ.get("RANK", "0")) == 0:  # one voice under torchrun; before any stage and the gates' options
        from dynrec_cli.config_unused import refuse_unused

        refuse_unused(cfg, verb, overrides, _folder(config_dir))
    from dynrec_cli import targets

    targets.check_classes(targets.named_classes(cfg))  # imported (torch) once every key and value passed
    baseline_dir = _folder(baseline, "baseline")
    drops = list(max_drop)
    if gates or drops or baseline_dir is not None:
        _check_gate_options(cfg, gates, baseline_dir, drops)
    given_run_dir = bool(cfg.run_dir)
    from dynrec_cli import pipeline

    if not given_run_dir and int(os.environ.get("WORLD_SIZE", "1")) <= 1:  # under torchrun rank 0 names it
        cfg.run_dir = str(pipeline.resolve_run_dir(cfg, verb))
    run_dir = Path(cfg.run_dir) if cfg.run_dir else None
    outcome = Outcome(run_dir, {})

    def gate(metrics: dict[str, Any]) -> None:  # inside the command: a refused gate leaves the run as it was
        outcome.metrics, outcome.failed = metrics, check_gates(gates, metrics)
        if baseline_dir is not None and run_dir is not None:
            from dynrec_cli.evaluation.compare import wide_table
            from dynrec_cli.evaluation.gates import baseline_gate, check_empty_segments, parse_max_drops

            parsed = parse_max_drops(drops)
            check_empty_segments("--max-drop", [d.key for d in parsed], metrics)
            resamples, compare = int(cfg.eval.compare.resamples), cfg.eval.compare
            long, keys, failed = baseline_gate(run_dir, baseline_dir, parsed, resamples, float(compare.confidence), int(compare.seed))
            outcome.comparison, outcome.failed = long, outcome.failed + failed
            outcome.comparison_table = wide_table(long, keys, [str(baseline_dir), str(run_dir)], resamples, ["baseline", "this run"])

    # capture/rank/evaluate with run_dir=DIR: DIR must hold a trained run (a typo must not train a new one)
    outcome.metrics = pipeline.run_task(cfg, verb, force=force, overrides=overrides, require_trained=given_run_dir,
                                        config_dir=_folder(config_dir), keys_checked=True, verify=gate)
    return outcome


def _check_gate_options(cfg: DictConfig, gates: dict[str, float], baseline: Path | None, max_drop: list[str]) -> None:
    """Fail before any work on a gate no evaluation can produce or a bad --baseline/--max-drop pair."""
    from dynrec_cli.evaluation.gates import check_metric_keys, parse_max_drops

    drops = parse_max_drops(max_drop)
    if (baseline is None) != (not max_drop):
        raise ConfigError("--baseline RUN and --max-drop KEY=VALUE go together, e.g. --baseline runs/main --max-drop test/ndcg@10=5%")
    if baseline is not None and not (baseline / "evaluate" / "per_user.parquet").exists():
        raise ConfigError(f"--baseline {baseline}: no evaluated run there (run `dynrec evaluate run_dir={baseline}` first)")
    ks = list(cfg.eval.ks)
    check_metric_keys("--fail-under", list(gates), ks)
    check_metric_keys("--max-drop", [d.key for d in drops], ks)
    if baseline is not None and not cfg.run_dir:
        raise ConfigError("--baseline compares a run folder: give it as run_dir=DIR")


def parse_gates(items: Sequence[str]) -> dict[str, float]:
    """`KEY=NUMBER` strings (the CLI's --fail-under) as {key: limit}; a limit that decides nothing is refused."""
    from dynrec_cli.evaluation.gate_keys import check_floor

    gates: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            gates[key] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ConfigError(f"--fail-under {item}: expected KEY=NUMBER, e.g. test/ndcg@10=0.05")
        check_floor(item, key, gates[key])
    return gates


def check_gates(gates: Mapping[str, float], metrics: Mapping[str, float]) -> list[str]:
    """One line per figure below its limit; ConfigError for a key the evaluation did not produce."""
    from dynrec_cli.evaluation.gates import check_empty_segments, unknown_keys_message

    check_empty_segments("--fail-under", list(gates), dict(metrics))
    unknown = [key for key in gates if key not in metrics]
    if unknown:
        raise ConfigError(unknown_keys_message("--fail-under", unknown, sorted(metrics)))
    return [f"{key} = {metrics[key]:.4f} < {limit}" for key, limit in gates.items() if metrics[key] < limit]


def is_sweep(overrides: Sequence[str]) -> bool:
    """A search space (`hparams_search=`) or a sweep file (`+sweep=`) means a sweep, as -m does."""
    return any(o.startswith(("hparams_search=", "+sweep=")) for o in overrides)


def sweep(verb: str, overrides: Sequence[str], *, config_dir: str | os.PathLike[str] | None = None,
          force: bool = False) -> Path:
    """A Hydra multirun (`dynrec VERB -m ...`): checks every swept value first, runs the jobs,
    writes the sweep summary; returns the sweep folder. DynrecError when jobs were refused."""
    from dynrec_cli import targets
    from dynrec_cli.cli import _hydra, sweep_workers
    from dynrec_cli.cli.sweep_check import refuse_sweeping_a_trained_run, validate_sweep

    overrides = list(overrides)
    folder = _folder(config_dir)
    refuse_sweeping_a_trained_run(verb, overrides)
    workers: list[sweep_workers.Workers] = []

    def start_workers(launcher: DictConfig) -> None:  # joblib's workers import torch while the grid is checked
        if (started := sweep_workers.start(launcher)) is not None:
            workers.append(started)

    def task(cfg: DictConfig, job: list[str]) -> dict:
        from dynrec_cli import pipeline  # torch: imported where the job runs (this process, a joblib or Ray worker)

        return pipeline.run_task(cfg, verb, force=force, overrides=job, config_dir=folder, keys_checked=True)

    def check_classes(named: set[tuple[str, str]]) -> None:  # imported where torch is (or will be) anyway
        (workers[0].check_classes if workers else targets.check_classes)(named)

    failures: list[str] = []
    try:  # a typo fails here, before any job runs
        composed = validate_sweep(verb, overrides, folder, on_launcher=start_workers, check_classes=check_classes)
        sweep_dir = _hydra.run_sweep(verb, overrides, folder, task, failures, composed=composed)
    finally:
        for started in workers:
            started.stop()
    from dynrec_cli.sweeps import report_sweep

    report_sweep(sweep_dir)
    if failures:
        raise DynrecError(f"{len(failures)} job(s) of the sweep refused; the first: {failures[0]}")
    return sweep_dir
