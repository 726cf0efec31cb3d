"""Checks that run before the first stage changes a run folder: everything a later stage would
refuse that the config, the run folder and the inputs already decide.

- capture, rank and evaluate on a trained run never retrain it (`refuse_retraining`);
- a command that would retrain a run holding an interest store is refused, or archives the store
  with `capture.on_retrain=archive` (`check_store`): a retrained model orphans the store, and every
  later rank on the run would be refused;
- eval.ks, rank.users and rank.filter against the prepared data when prepare will not run again
  (`check_against_prepared`; when it does, the pipeline calls it right after prepare);
- rank.users=captured needs a store.

What only a stage's own output can tell (a new prepare's catalogue) is checked as soon as that
output exists; a refusal then is rolled back by the run journal (journal.py).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from dynrec_cli import artifacts
from dynrec_cli.errors import ArtifactError, ConfigError
from dynrec_cli.journal import RunJournal
from dynrec_cli.stages import STAGES, StageContext

log = logging.getLogger(__name__)
TRAINED_STAGES = ("prepare", "pretrain", "finetune")  # what capture/rank/evaluate read and never redo
RUNTIME_KEYS = ("trainer.threads", "trainer.device")  # where a run computes, not what it learns
RETRAINED = ("prepare", "finetune")  # the stages an interest store is bound to (capture/store.py)


def require_trained_run(run_dir: Path, verb: str) -> None:
    """A mistyped run_dir= must not silently train (and gate CI on) a brand-new model."""
    if not (run_dir / "finetune" / artifacts.MANIFEST).is_file():
        what = "no such folder" if not os.path.lexists(run_dir) else "no finished finetune stage there"
        raise ArtifactError(
            f"run_dir={run_dir}: no trained run ({what}); train one first "
            f"(dynrec train run_dir={run_dir} ...), then run dynrec {verb} on it"
        )


def refuse_retraining(ctx: StageContext, verb: str, stages: list[str]) -> dict[str, str]:
    """capture, rank and evaluate (and serve, forget) read a trained run: an override or an input
    file that would redo one of its training stages is refused, never acted on (a silent retrain
    would also orphan the run's interest store). Returns the stages whose config differs in
    RUNTIME_KEYS only (e.g. evaluating with trainer.threads=1), or whose inputs differ by users
    forgotten since (the next `dynrec train` leaves them out): those are read as they are, not
    redone, and why."""
    as_trained: dict[str, str] = {}
    for name in [n for n in stages if n in TRAINED_STAGES]:
        stage, manifest = STAGES[name], artifacts.load_manifest(ctx.run_dir / name)
        if manifest is None:
            raise ArtifactError(f"run_dir={ctx.run_dir}: no {name} stage; train the run first (dynrec train run_dir={ctx.run_dir})")
        if manifest["config_hash"] != artifacts.config_hash(stage.config_sections(ctx.cfg)):
            changed = changed_keys(manifest.get("config", {}), resolved_sections(stage, ctx.cfg))
            if changed and all(key in RUNTIME_KEYS for key, _, _ in changed):
                as_trained[name] = f"trained with other {' / '.join(RUNTIME_KEYS)}"
                continue
            said = "; ".join(f"{key}={new!r} (trained with {old!r})" for key, old, new in changed[:4])
            trained = " ".join(f"{key}={_override_text(old)}" for key, old, _ in changed[:4])
            raise ConfigError(
                f"run_dir={ctx.run_dir}: {said or 'the config'} would redo its {name} stage, and dynrec {verb} "
                f"never retrains a run: drop them (or give the trained values: {trained}), or retrain with them: "
                f"dynrec train run_dir={ctx.run_dir} ..."
            )
        if manifest["inputs"] != stage.inputs(ctx):
            if _only_tombstones_differ(manifest["inputs"], stage.inputs(ctx)):
                as_trained[name] = "users forgotten since it ran (dynrec train leaves them out)"
                continue
            raise ArtifactError(
                f"run_dir={ctx.run_dir}: the {name} stage's inputs changed since it ran (a data file, or an "
                f"earlier stage), and dynrec {verb} never retrains a run: retrain with dynrec train run_dir={ctx.run_dir}"
            )
    return as_trained


def _only_tombstones_differ(recorded: dict[str, str], now: dict[str, str]) -> bool:
    """Whether two input records differ only by the run's tombstones (a user forgotten since)."""
    from dynrec_cli.data.forgotten import TOMBSTONES

    def drop(inputs: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in inputs.items() if k != TOMBSTONES}

    return drop(recorded) == drop(now)


def stages_to_run(ctx: StageContext, stages: list[str], forced: set[str], as_trained: dict[str, str]) -> dict[str, str]:
    """Each stage of `stages` that is not up to date, with why (the pipeline's own skip rule; a
    stage after one that runs again counts as running again)."""
    runs: dict[str, str] = {}
    for name in stages:
        if name in as_trained:
            continue
        stage, manifest = STAGES[name], artifacts.load_manifest(ctx.stage_dir(name))
        if name in forced:
            runs[name] = "--force"
        elif manifest is None:
            runs[name] = "it has not run"
        elif manifest["config_hash"] != artifacts.config_hash(stage.config_sections(ctx.cfg)):
            changed = changed_keys(manifest.get("config", {}), resolved_sections(stage, ctx.cfg))
            runs[name] = "; ".join(f"{key}={new!r}, trained with {old!r}" for key, old, new in changed[:2]) or "its config changed"
        elif upstream := [d for d in stage.DEPENDS if d in runs]:
            runs[name] = f"its input, {upstream[0]}, runs again"
        elif manifest["inputs"] != stage.inputs(ctx):
            runs[name] = "its inputs changed"
    return runs


def check_store(ctx: StageContext, runs: dict[str, str], journal: RunJournal) -> None:
    """A run with an interest store is not retrained behind its back (see the module docstring)."""
    from dynrec_cli.capture.run import store_folder
    from dynrec_cli.capture.store import STORE_JSON

    folder = store_folder(ctx)
    retrained = [name for name in RETRAINED if name in runs]
    if not retrained or not (folder / STORE_JSON).is_file():
        return
    archive = folder.with_name(f"{folder.name}.archived-{time.strftime('%Y%m%d-%H%M%S')}")
    if ctx.cfg.capture.on_retrain == "archive":
        journal.move_aside(folder, archive=archive)
        log.warning("interest store %s archived to %s: the run is retrained (%s)", folder, archive, runs[retrained[0]])
        return
    from dynrec_cli import run_files

    captures = run_files.read_json(folder / STORE_JSON, run_files.STORE).get("captures_run", "?")
    raise ConfigError(
        f"run_dir={ctx.run_dir}: this command would retrain its {retrained[0]} stage ({runs[retrained[0]]}), and "
        f"{folder} holds an interest store ({captures} capture(s)) that only the current model can use; train a new "
        f"run (run_dir=<new folder>), or archive the store and retrain: add capture.on_retrain=archive (moves it to "
        f"{folder.name}.archived-<time>)"
    )


def check_before_stages(ctx: StageContext, stages: list[str], runs: dict[str, str], journal: RunJournal) -> None:
    """Every check that needs no stage to run first (see the module docstring)."""
    from dynrec_cli.capture.run import store_folder
    from dynrec_cli.capture.store import STORE_JSON
    from dynrec_cli.capture.view import CAPTURED

    check_store(ctx, runs, journal)
    if "prepare" in stages and "prepare" not in runs:
        check_against_prepared(ctx, stages)
    if "rank" in stages and ctx.cfg.rank.users == CAPTURED and not (store_folder(ctx) / STORE_JSON).is_file():
        raise ConfigError("rank.users=captured: this run has no interest store yet, so no captured users "
                          "(dynrec capture run_dir=DIR capture.events=FILE makes one)")


def check_against_prepared(ctx: StageContext, stages: list[str]) -> None:
    """eval.ks and the objective's K against the catalogue, rank.users and rank.filter against the
    prepared data: before finetune spends time on a run that it, evaluate or rank would refuse."""
    from dynrec_cli.stages.evaluate import check_ks
    from dynrec_cli.stages.finetune import check_objective_k
    from dynrec_cli.stages.rank import check_against_prepared as check_rank

    manifest = artifacts.load_manifest(ctx.stage_dir("prepare")) or {}
    n_items = manifest.get("figures", {}).get("items")
    if n_items is not None and "evaluate" in stages:
        check_ks(ctx.cfg.eval, int(n_items), ctx.run_dir)
    if n_items is not None and "finetune" in stages:
        check_objective_k(ctx.cfg.trainer, int(n_items), ctx.run_dir)
    if "rank" in stages:
        check_rank(ctx)


def changed_keys(trained: dict[str, Any], now: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, trained value, new value) for every leaf that differs between two config trees."""
    out = []
    for key in sorted(set(trained) | set(now), key=str):
        old, new = trained.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            out += changed_keys(old, new, f"{prefix}{key}.")
        elif old != new:
            out.append((f"{prefix}{key}", old, new))
    return out


def _override_text(value: Any) -> str:
    """A trained value as an override writes it (None as null, lists as [a,b])."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ",".join(_override_text(v) for v in value) + "]"
    return str(value)


def resolved_sections(stage: Any, cfg: DictConfig) -> dict[str, Any]:
    """A stage's config sections as plain values, as its manifest records them."""
    return {
        key: OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value
        for key, value in stage.config_sections(cfg).items()
    }
