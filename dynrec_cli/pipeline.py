"""The ordered stages and `run_task`: seed, run folder, manifests, skip-if-unchanged."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from dynrec_cli import artifacts, resources, run_files
from dynrec_cli.data.samples import register_resolver
from dynrec_cli.errors import ArtifactError, ConfigError, DynrecError
from dynrec_cli.runtime import reuse_freed_memory
from dynrec_cli.stages import STAGES, StageContext
from dynrec_cli.training import distributed

log = logging.getLogger(__name__)
register_resolver()  # `${dynrec.sample:...}` resolves in every process that runs stages (sweep workers too)
METRICS_FILE = "metrics.json"
OVERRIDES_FILE = "overrides.json"  # the overrides of the command that last (re)trained the run
# verbs that work on a trained model: given an explicit run_dir=, it must hold one (see run_task)
NEEDS_TRAINED_RUN = ("capture", "rank", "evaluate")
TRAINED_STAGES = ("prepare", "pretrain", "finetune")  # what those verbs read and never redo
RUNTIME_KEYS = ("trainer.threads", "trainer.device")  # where a run computes, not what it learns


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
) -> dict[str, Any]:
    """Run `verb`'s stages on `cfg`; returns the run's metrics (empty before evaluate has run).

    With `require_trained` (the CLI's capture/rank/evaluate with an explicit run_dir=), a run
    folder without a finished finetune stage is refused instead of training a new model there."""
    from dynrec_cli.config_checks import validate_config
    from dynrec_cli.config_unused import warn_unused

    validate_config(cfg)
    if distributed.is_main():
        warn_unused(cfg, overrides or [])
    if OmegaConf.select(cfg, "runtime.reuse_freed_memory", default=True):
        reuse_freed_memory()
    with distributed.session():  # under torchrun: join the process group; else a no-op
        trained = bool(require_trained and cfg.run_dir and verb in NEEDS_TRAINED_RUN)
        if trained:
            distributed.on_main(lambda: _require_trained_run(Path(cfg.run_dir), verb))
        # one run folder for all ranks; `created`: the top folder this command made (else None)
        run_dir, created = distributed.on_main(lambda: _open_run_dir(cfg, verb))
        ctx = StageContext(cfg=cfg, run_dir=run_dir)
        log.info("run folder: %s", run_dir)
        # stages trained under other runtime keys only (threads, device): read as they are
        as_trained = distributed.on_main(lambda: _refuse_retraining(ctx, verb, verb)) if trained else {}
        ran: set[str] = set()  # the stages this command (re)ran, not skipped
        try:
            with _recording(run_dir, cfg, overrides, ran):
                for name in stages_for(verb):
                    stage = STAGES[name]
                    redo = force and (verb == "train" or name == verb)
                    if name in as_trained:
                        log.info("[%s] %s, read as it is", name, as_trained[name])
                    elif stage.DATA_PARALLEL:
                        ran.update([name] if _run_stage(stage, ctx, redo) else [])
                    else:  # one writer: rank 0 runs the stage while the other ranks wait
                        ran.update([name] if distributed.on_main(lambda: _run_stage(stage, ctx, redo)) else [])
                    if name == "prepare":
                        _check_against_prepared(ctx, verb)
                if verb == "capture":  # capture.events / capture.items update the interest store (cursor-driven, not skip-checked)
                    from dynrec_cli.capture.run import capture_updates

                    with resources.as_one_line(run_dir, "capture", STAGES["capture"].MEMORY_KEYS):
                        distributed.on_main(lambda: capture_updates(ctx))
        except BaseException:
            if created is not None and distributed.is_main():  # refused before any stage wrote: leave no empty folder
                _remove_empty(run_dir, created)
            raise
    metrics_path = run_dir / METRICS_FILE
    return run_files.read_json(metrics_path, run_files.METRICS) if metrics_path.exists() else {}


def check_trained_run(cfg: DictConfig, command: str) -> StageContext:
    """For commands that read a trained run without running stages (serve, forget): what
    capture/rank/evaluate check first (the config, a trained run_dir=, no override that would
    retrain it), and nothing written."""
    from dynrec_cli.config_checks import validate_config

    validate_config(cfg)
    run_dir = Path(cfg.run_dir)
    _require_trained_run(run_dir, command)
    ctx = StageContext(cfg=cfg, run_dir=run_dir)
    _refuse_retraining(ctx, "capture", command)
    return ctx


def _check_against_prepared(ctx: StageContext, verb: str) -> None:
    """eval.ks and the objective's K against the catalogue, rank.users and rank.filter against the
    prepared data: before finetune spends time on a run that it, evaluate or rank would refuse."""
    from dynrec_cli.stages.evaluate import check_ks
    from dynrec_cli.stages.finetune import check_objective_k
    from dynrec_cli.stages.rank import check_against_prepared

    manifest = artifacts.load_manifest(ctx.stage_dir("prepare")) or {}
    n_items = manifest.get("figures", {}).get("items")
    if n_items is not None and "evaluate" in stages_for(verb):
        check_ks(ctx.cfg.eval, int(n_items), ctx.run_dir)
    if n_items is not None and "finetune" in stages_for(verb):
        check_objective_k(ctx.cfg.trainer, int(n_items), ctx.run_dir)
    if "rank" in stages_for(verb):
        check_against_prepared(ctx)


def _require_trained_run(run_dir: Path, verb: str) -> None:
    """A mistyped run_dir= must not silently train (and gate CI on) a brand-new model."""
    if not (run_dir / "finetune" / artifacts.MANIFEST).is_file():
        what = "no such folder" if not os.path.lexists(run_dir) else "no finished finetune stage there"
        raise ArtifactError(
            f"run_dir={run_dir}: no trained run ({what}); train one first "
            f"(dynrec train run_dir={run_dir} ...), then run dynrec {verb} on it"
        )


def _refuse_retraining(ctx: StageContext, verb: str, command: str) -> dict[str, str]:
    """capture, rank and evaluate read a trained run: an override or an input file that would
    redo one of its training stages is refused, never acted on (a silent retrain would also
    orphan the run's interest store). Returns the stages whose config differs in RUNTIME_KEYS
    only (e.g. evaluating with trainer.threads=1), or whose inputs differ by users forgotten since
    (the next `dynrec train` leaves them out): those are read as they are, not redone, and why."""
    as_trained = {}
    for name in [n for n in stages_for(verb) if n in TRAINED_STAGES]:
        stage, manifest = STAGES[name], artifacts.load_manifest(ctx.run_dir / name)
        if manifest is None:
            raise ArtifactError(f"run_dir={ctx.run_dir}: no {name} stage; train the run first (dynrec train run_dir={ctx.run_dir})")
        if manifest["config_hash"] != artifacts.config_hash(stage.config_sections(ctx.cfg)):
            changed = _changed_keys(manifest.get("config", {}), _resolved_sections(stage, ctx.cfg))
            if changed and all(key in RUNTIME_KEYS for key, _, _ in changed):
                as_trained[name] = f"trained with other {' / '.join(RUNTIME_KEYS)}"
                continue
            said = "; ".join(f"{key}={new!r} (trained with {old!r})" for key, old, new in changed[:4])
            raise ConfigError(
                f"run_dir={ctx.run_dir}: {said or 'the config'} would redo its {name} stage, and dynrec {command} "
                f"never retrains a run: drop them, or retrain with them: dynrec train run_dir={ctx.run_dir} ..."
            )
        if manifest["inputs"] != stage.inputs(ctx):
            if _only_tombstones_differ(manifest["inputs"], stage.inputs(ctx)):
                as_trained[name] = "users forgotten since it ran (dynrec train leaves them out)"
                continue
            raise ArtifactError(
                f"run_dir={ctx.run_dir}: the {name} stage's inputs changed since it ran (a data file, or an "
                f"earlier stage), and dynrec {command} never retrains a run: retrain with dynrec train run_dir={ctx.run_dir}"
            )
    return as_trained


def _only_tombstones_differ(recorded: dict[str, str], now: dict[str, str]) -> bool:
    """Whether two input records differ only by the run's tombstones (a user forgotten since)."""
    from dynrec_cli.data.forgotten import TOMBSTONES

    def drop(inputs: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in inputs.items() if k != TOMBSTONES}

    return drop(recorded) == drop(now)


def _changed_keys(trained: dict[str, Any], now: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, trained value, new value) for every leaf that differs between two config trees."""
    out = []
    for key in sorted(set(trained) | set(now), key=str):
        old, new = trained.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            out += _changed_keys(old, new, f"{prefix}{key}.")
        elif old != new:
            out.append((f"{prefix}{key}", old, new))
    return out


def _resolved_sections(stage: Any, cfg: DictConfig) -> dict[str, Any]:
    """A stage's config sections as plain values, as its manifest records them."""
    return {
        key: OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value
        for key, value in stage.config_sections(cfg).items()
    }


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
def _recording(run_dir: Path, cfg: DictConfig, overrides: list[str] | None, ran: set[str]) -> Iterator[None]:
    """Write config.json (and overrides.json, see _record_run) once the command succeeds, or fails
    after a stage completed: a command refused up front leaves the run folder as it was.
    `ran` fills with the stages the command (re)ran while it is in the `with` block."""
    try:
        yield
    except BaseException as exc:
        if distributed.is_main() and ran:  # a refused value (our errors) must not become the run's setting
            _record_run(run_dir, cfg, None if isinstance(exc, DynrecError) else overrides, ran)
        raise
    if distributed.is_main():
        _record_run(run_dir, cfg, overrides, ran)


def _record_run(run_dir: Path, cfg: DictConfig, overrides: list[str] | None, ran: set[str]) -> None:
    """config.json always; overrides.json for a new run, and whenever the command (re)ran a stage
    the run's model is trained from (TRAINED_STAGES), so that later verbs on the folder compose
    what it was last trained with (e.g. `train run_dir=R model=pop` after `prepare run_dir=R`)."""
    with resources.as_one_line(run_dir):
        artifacts.write_json(run_dir / "config.json", OmegaConf.to_container(cfg, resolve=True))
        saved = run_dir / OVERRIDES_FILE
        if overrides is not None and (ran & set(TRAINED_STAGES) or not saved.exists()):
            artifacts.write_json(saved, [o for o in overrides if not o.startswith("run_dir=")])


def _run_stage(stage: Any, ctx: StageContext, force: bool) -> bool:
    """Run `stage` unless its manifest says it is up to date; returns whether it ran."""
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
            manifest["config"] = _resolved_sections(stage, ctx.cfg)
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
    return True
