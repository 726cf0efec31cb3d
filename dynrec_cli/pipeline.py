"""The ordered stages and `run_task`: seed, run folder, manifests, skip-if-unchanged."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from dynrec_cli import artifacts
from dynrec_cli.runtime import reuse_freed_memory
from dynrec_cli.stages import STAGES, StageContext
from dynrec_cli.training import distributed

log = logging.getLogger(__name__)
METRICS_FILE = "metrics.json"


def stages_for(verb: str) -> list[str]:
    """The verb's own stage and every stage it depends on, in pipeline order."""
    if verb == "train":
        return list(STAGES)
    needed: set[str] = set()
    pending = [verb]
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(STAGES[name].DEPENDS)
    return [name for name in STAGES if name in needed]


def resolve_run_dir(cfg: DictConfig, verb: str) -> Path:
    if cfg.run_dir:
        return Path(cfg.run_dir)
    return Path("runs") / verb / time.strftime("%Y-%m-%d_%H-%M-%S")


def run_task(cfg: DictConfig, verb: str, *, force: bool = False, overrides: list[str] | None = None) -> dict[str, Any]:
    """Run `verb`'s stages on `cfg`; returns the run's metrics (empty before evaluate has run)."""
    from dynrec_cli.config_checks import validate_config

    validate_config(cfg)
    if OmegaConf.select(cfg, "runtime.reuse_freed_memory", default=True):
        reuse_freed_memory()
    with distributed.session():  # under torchrun: join the process group; else a no-op
        run_dir = distributed.on_main(lambda: _open_run_dir(cfg, verb, overrides))  # one run folder for all ranks
        ctx = StageContext(cfg=cfg, run_dir=run_dir)
        log.info("run folder: %s", run_dir)
        with _recording(run_dir, cfg, overrides):
            for name in stages_for(verb):
                stage = STAGES[name]
                redo = force and (verb == "train" or name == verb)
                if stage.DATA_PARALLEL:
                    _run_stage(stage, ctx, redo)
                else:  # one writer: rank 0 runs the stage while the other ranks wait
                    distributed.on_main(lambda: _run_stage(stage, ctx, redo))
            if verb == "capture":  # capture.events / capture.items update the interest store (cursor-driven, not skip-checked)
                from dynrec_cli.capture.run import capture_updates

                distributed.on_main(lambda: capture_updates(ctx))
    metrics_path = run_dir / METRICS_FILE
    return json.loads(metrics_path.read_text()) if metrics_path.exists() else {}


def _open_run_dir(cfg: DictConfig, verb: str, overrides: list[str] | None) -> Path:
    run_dir = resolve_run_dir(cfg, verb)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


@contextlib.contextmanager
def _recording(run_dir: Path, cfg: DictConfig, overrides: list[str] | None) -> Iterator[None]:
    """Write config.json (and a new run's overrides.json) once the command succeeds, or fails
    after a stage completed: a command refused up front leaves the run folder as it was."""
    started = time.time()
    try:
        yield
    except BaseException:
        if distributed.is_main() and any(p.stat().st_mtime >= started for p in run_dir.glob(f"*/{artifacts.MANIFEST}")):
            _record_run(run_dir, cfg, overrides)
        raise
    if distributed.is_main():
        _record_run(run_dir, cfg, overrides)


def _record_run(run_dir: Path, cfg: DictConfig, overrides: list[str] | None) -> None:
    artifacts.write_json(run_dir / "config.json", OmegaConf.to_container(cfg, resolve=True))
    if overrides is not None and not (run_dir / "overrides.json").exists():
        artifacts.write_json(run_dir / "overrides.json", [o for o in overrides if not o.startswith("run_dir=")])


def _run_stage(stage: Any, ctx: StageContext, force: bool) -> None:
    name = stage.NAME
    out = ctx.run_dir / name
    cfg_hash = artifacts.config_hash(stage.config_sections(ctx.cfg))
    inputs = stage.inputs(ctx)
    current = artifacts.load_manifest(out)
    if distributed.broadcast(  # a data-parallel stage: every rank follows rank 0's decision
        not force
        and current is not None
        and current["config_hash"] == cfg_hash
        and current["inputs"] == inputs
    ):
        log.info("[%s] up to date, skipped", name)
        if distributed.is_main():
            stage.report(ctx, current)
        return
    log.info("[%s] running", name)
    folder = artifacts.StageFolder(out)
    started = time.perf_counter()
    try:
        figures = stage.run(ctx, folder.path)
        manifest = artifacts.new_manifest(name, int(ctx.cfg.seed), cfg_hash, inputs)
        manifest["figures"] = figures
        manifest["config"] = {
            key: OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value
            for key, value in stage.config_sections(ctx.cfg).items()
        }
        manifest["duration_s"] = round(time.perf_counter() - started, 3)
        if distributed.is_main():
            folder.commit(manifest)
        else:  # a data-parallel stage's other ranks: rank 0's folder is the stage's
            folder.discard()
    except BaseException:
        folder.discard()
        raise
    distributed.on_main(lambda: stage.after_commit(ctx, artifacts.load_manifest(out) or {}))  # and a barrier
    log.info("[%s] done in %.1fs", name, time.perf_counter() - started)
