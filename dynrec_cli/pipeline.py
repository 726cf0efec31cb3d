"""The ordered stages and `run_task`: seed, run folder, manifests, skip-if-unchanged."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from dynrec_cli import artifacts, preflight, resources, run_files
from dynrec_cli.data.samples import register_resolver
from dynrec_cli.errors import ArtifactError, DynrecError
from dynrec_cli.journal import RunJournal
from dynrec_cli.run_overrides import NEEDS_TRAINED_RUN, OVERRIDES_FILE, to_record
from dynrec_cli.runtime import reuse_freed_memory
from dynrec_cli.stages import STAGES, StageContext
from dynrec_cli.training import distributed

log = logging.getLogger(__name__)
register_resolver()  # `${dynrec.sample:...}` resolves in every process that runs stages (sweep workers too)
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


def run_task(
    cfg: DictConfig,
    verb: str,
    *,
    force: bool = False,
    overrides: list[str] | None = None,
    require_trained: bool = False,
    config_dir: Path | None = None,
    keys_checked: bool = False,
    verify: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run `verb`'s stages on `cfg`; returns the run's metrics (empty before evaluate has run).

    With `require_trained` (the CLI's capture/rank/evaluate with an explicit run_dir=), a run
    folder without a finished finetune stage is refused instead of training a new model there.
    `config_dir`: the --config-dir the config was composed with (its keys count as given).
    `keys_checked`: the caller refused unused keys already (a sweep for all its jobs, cli/sweep_check.py;
    api/commands.execute before torch is imported).
    `verify(metrics)`: last checks (e.g. CI gates' keys) that may still refuse the command.

    A refused command (DynrecError) leaves the run folder as it was: checks that need no stage run
    first (preflight.py), and what the stages changed before a later refusal is rolled back
    (journal.py). A crash keeps the stages it completed and records nothing."""
    from dynrec_cli.config_checks import validate_config
    from dynrec_cli.config_unused import refuse_unused

    validate_config(cfg)
    if not keys_checked and distributed.is_main():
        refuse_unused(cfg, verb, overrides or [], config_dir)
    if OmegaConf.select(cfg, "runtime.reuse_freed_memory", default=True):
        reuse_freed_memory()
    with distributed.session():  # under torchrun: join the process group; else a no-op
        trained = bool(require_trained and cfg.run_dir and verb in NEEDS_TRAINED_RUN)
        if trained:
            distributed.on_main(lambda: preflight.require_trained_run(Path(cfg.run_dir), verb))
        # one run folder for all ranks; `created`: the top folder this command made (else None)
        run_dir, created = distributed.on_main(lambda: _open_run_dir(cfg, verb))
        ctx = StageContext(cfg=cfg, run_dir=run_dir)
        log.info("run folder: %s", run_dir)
        journal = RunJournal(run_dir, tuple(STAGES)) if distributed.is_main() else None
        ran: set[str] = set()  # the stages this command (re)ran, not skipped
        try:
            with _transaction(journal, run_dir, cfg, to_record(overrides or []), ran):
                metrics = _run_stages(ctx, verb, force, trained, journal, ran)
                if verify is not None:
                    verify(metrics)
        except BaseException:
            if created is not None and distributed.is_main():  # refused before any stage wrote: leave no empty folder
                _remove_empty(run_dir, created)
            raise
    return metrics


def _run_stages(ctx: StageContext, verb: str, force: bool, trained: bool, journal: RunJournal | None,
                ran: set[str]) -> dict[str, Any]:
    """Preflight, then each stage of `verb` that is not up to date; returns the run's metrics."""
    stages = stages_for(verb)
    forced = {name for name in stages if force and (verb == "train" or name == verb)}

    def check() -> dict[str, str]:
        # stages trained under other runtime keys only (threads, device): read as they are
        as_trained = preflight.refuse_retraining(ctx, verb, stages) if trained else {}
        runs = preflight.stages_to_run(ctx, stages, forced, as_trained)
        assert journal is not None
        preflight.check_before_stages(ctx, stages, runs, journal)
        return as_trained

    as_trained = distributed.on_main(check)
    for name in stages:
        stage = STAGES[name]
        if name in as_trained:
            log.info("[%s] %s, read as it is", name, as_trained[name])
        elif stage.DATA_PARALLEL:
            ran.update([name] if _run_stage(stage, ctx, name in forced, journal) else [])
        else:  # one writer: rank 0 runs the stage while the other ranks wait
            ran.update([name] if distributed.on_main(lambda: _run_stage(stage, ctx, name in forced, journal)) else [])
        if name == "prepare" and name in ran:  # what only the new prepared data can tell, before any training
            distributed.on_main(lambda: preflight.check_against_prepared(ctx, stages))
    if verb == "capture":  # capture.events / capture.items update the interest store (cursor-driven, not skip-checked)
        from dynrec_cli.capture.run import capture_updates

        with resources.as_one_line(ctx.run_dir, "capture", STAGES["capture"].MEMORY_KEYS):
            distributed.on_main(lambda: capture_updates(ctx))
    metrics_path = ctx.run_dir / METRICS_FILE
    return run_files.read_json(metrics_path, run_files.METRICS) if metrics_path.exists() else {}


def check_trained_run(cfg: DictConfig, command: str) -> StageContext:
    """For commands that read a trained run without running stages (serve, forget): what
    capture/rank/evaluate check first (the config, a trained run_dir=, no override that would
    retrain it), and nothing written."""
    from dynrec_cli.config_checks import validate_config

    validate_config(cfg)
    run_dir = Path(cfg.run_dir)
    preflight.require_trained_run(run_dir, command)
    ctx = StageContext(cfg=cfg, run_dir=run_dir)
    preflight.refuse_retraining(ctx, command, stages_for("capture"))
    return ctx


def _open_run_dir(cfg: DictConfig, verb: str) -> tuple[Path, Path | None]:
    """Create the run folder and check it can be written. Returns it and the topmost folder
    this call created (None when it existed), so that a refused command can remove it again."""
    run_dir = resolve_run_dir(cfg, verb)
    if os.path.lexists(run_dir) and not run_dir.is_dir():
        raise ArtifactError(f"run_dir={run_dir}: is a file, not a folder; give a folder path (a new or an existing run)")
    created = next((p for p in reversed([run_dir, *run_dir.parents]) if not os.path.lexists(p)), None)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=run_dir, prefix=".write-check."):
            pass
    except (FileExistsError, NotADirectoryError):
        raise ArtifactError(f"run_dir={run_dir}: part of the path is a file, not a folder") from None
    except OSError as exc:
        if created is not None:
            _remove_empty(run_dir, created)
        if exc.errno not in resources.UNWRITABLE:
            raise
        raise ArtifactError(f"run_dir={run_dir}: cannot create or write the run folder ({exc.strerror})") from None
    return run_dir, created


def _remove_empty(run_dir: Path, top: Path) -> None:
    """Remove `run_dir` and its parents up to `top` while they are empty (never anything else)."""
    for folder in [run_dir, *run_dir.parents]:
        try:
            folder.rmdir()  # fails on a folder that holds anything
        except OSError:
            return
        if folder == top:
            return


@contextlib.contextmanager
def _transaction(journal: RunJournal | None, run_dir: Path, cfg: DictConfig, recorded: list[str],
                 ran: set[str]) -> Iterator[None]:
    """The command's changes to the run folder, all or nothing for a refusal: a DynrecError rolls
    back what the stages changed (`journal`, rank 0's); success writes config.json and
    overrides.json (see _record_run). A crash (any other exception, Ctrl-C) keeps the stages it
    completed, so that rerunning the command resumes, and records nothing: config.json and
    overrides.json never claim a command that did not complete.
    `ran` fills with the stages the command (re)ran while it is in the `with` block."""
    try:
        yield
    except DynrecError:
        if journal is not None:
            journal.rollback()
        raise
    except BaseException:
        if journal is not None:
            journal.keep()
        raise
    if journal is not None:
        _record_run(run_dir, cfg, recorded, ran)
        journal.keep()


def _record_run(run_dir: Path, cfg: DictConfig, recorded: list[str], ran: set[str]) -> None:
    """config.json always; overrides.json for a new run, and whenever the command (re)ran a stage
    the run's model is trained from (TRAINED_STAGES), so that later verbs on the folder compose
    what it was last trained with (e.g. `train run_dir=R model=pop` after `prepare run_dir=R`)."""
    with resources.as_one_line(run_dir):
        artifacts.write_json(run_dir / "config.json", OmegaConf.to_container(cfg, resolve=True))
        saved = run_dir / OVERRIDES_FILE
        if ran & set(preflight.TRAINED_STAGES) or not saved.exists():
            artifacts.write_json(saved, recorded)


def _run_stage(stage: Any, ctx: StageContext, force: bool, journal: RunJournal | None) -> bool:
    """Run `stage` unless its manifest says it is up to date; returns whether it ran. The folder it
    replaces is set aside in `journal` until the command ends."""
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
        return False
    log.info("[%s] running", name)
    with resources.as_one_line(ctx.run_dir, name, stage.MEMORY_KEYS):
        folder = artifacts.StageFolder(out)
        started = time.perf_counter()
        try:
            figures = stage.run(ctx, folder.path)
            manifest = artifacts.new_manifest(name, int(ctx.cfg.seed), cfg_hash, inputs)
            manifest["figures"] = figures
            manifest["config"] = preflight.resolved_sections(stage, ctx.cfg)
            manifest["duration_s"] = round(time.perf_counter() - started, 3)
            if journal is not None:  # rank 0
                journal.move_aside(out)
                folder.commit(manifest)
            else:  # a data-parallel stage's other ranks: rank 0's folder is the stage's
                folder.discard()
        except BaseException:
            folder.discard()
            raise
    distributed.on_main(lambda: stage.after_commit(ctx, artifacts.load_manifest(out) or {}))  # and a barrier
    log.info("[%s] done in %.1fs", name, time.perf_counter() - started)
    return True
