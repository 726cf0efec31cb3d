"""The pipeline verbs as functions taking the CLI's `key=value` overrides.

`dynrec_cli.train("model=sasrec", run_dir="runs/a")` does what `dynrec train model=sasrec
run_dir=runs/a` does, through the same code (`commands.execute`). Bad input raises a DynrecError
whose message is the line the CLI prints and whose `exit_code` is the CLI's; a failed gate
raises GateFailed (exit code 1). Nothing here calls sys.exit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from dynrec_cli.api import arguments, commands
from dynrec_cli.api.run import Run, override
from dynrec_cli.errors import ConfigError, GateFailed

PathLike = str | os.PathLike[str]


def _overrides(verb: str, overrides: Sequence[str], run_dir: PathLike | None) -> list[str]:
    folder = arguments.folder(run_dir, "run_dir")
    items = [*arguments.overrides(overrides), *([override("run_dir", folder)] if folder is not None else [])]
    if commands.is_sweep(items):
        raise ConfigError(f"{verb}: hparams_search= and +sweep= run a sweep; use dynrec_cli.sweep(..., verb={verb!r})")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not any(o.startswith("run_dir=") for o in items):
        raise ConfigError(f"{verb} under torchrun: give run_dir= (every process must name the same run folder)")
    return items


def _run(verb: str, overrides: Sequence[str], run_dir: PathLike | None, config_dir: PathLike | None, force: bool) -> Path:
    outcome = commands.execute(verb, _overrides(verb, overrides, run_dir), config_dir=config_dir, force=force)
    assert outcome.run_dir is not None  # _overrides made sure of it under torchrun
    return outcome.run_dir


def train(*overrides: str, run_dir: PathLike | None = None, config_dir: PathLike | None = None, force: bool = False) -> Run:
    """Every stage in order (`dynrec train`); stages whose inputs and config are unchanged are skipped.

    Args:
        overrides: Hydra overrides, e.g. "model=sasrec", "trainer.epochs=5".
        run_dir: the run folder (default runs/train/<time>); same as the override run_dir=.
        config_dir: a folder of your own configs, searched after dynrec's (`--config-dir`): it adds group options; a file named as a shipped one is shadowed.
        force: redo the stages even when up to date (`--force`).
    """
    return Run(_run("train", overrides, run_dir, config_dir, force))


def prepare(*overrides: str, run_dir: PathLike | None = None, config_dir: PathLike | None = None, force: bool = False) -> Path:
    """Read, clean, filter and split the data (`dynrec prepare`); returns the run folder."""
    return _run("prepare", overrides, run_dir, config_dir, force)


def pretrain(*overrides: str, run_dir: PathLike | None = None, config_dir: PathLike | None = None, force: bool = False) -> Path:
    """Encode the item text with the language model (`dynrec pretrain`); returns the run folder."""
    return _run("pretrain", overrides, run_dir, config_dir, force)


def finetune(*overrides: str, run_dir: PathLike | None = None, config_dir: PathLike | None = None, force: bool = False) -> Run:
    """Train the model (`dynrec finetune`), after the stages it needs."""
    return Run(_run("finetune", overrides, run_dir, config_dir, force))


def capture(*overrides: str, run_dir: PathLike | None = None, config_dir: PathLike | None = None, force: bool = False) -> Run:
    """Users' interests; with capture.events=FILE / capture.items=FILE, update the interest store (`dynrec capture`)."""
    return Run(_run("capture", overrides, run_dir, config_dir, force))


def rank(*overrides: str, run_dir: PathLike | None = None, config_dir: PathLike | None = None, force: bool = False) -> Run:
    """Write the top-K lists into RUN/rank/ (`dynrec rank`); `Run.recommend` returns them instead."""
    return Run(_run("rank", overrides, run_dir, config_dir, force))


def evaluate(
    *overrides: str,
    run_dir: PathLike | None = None,
    config_dir: PathLike | None = None,
    force: bool = False,
    fail_under: Mapping[str, float] | None = None,
    baseline: PathLike | None = None,
    max_drop: Mapping[str, float | str] | None = None,
) -> Run:
    """Full-ranking metrics (`dynrec evaluate`), with the CLI's gates.

    Args:
        fail_under: {metric key: limit}, e.g. {"test/ndcg@10": 0.05} (`--fail-under`).
        baseline: an evaluated run folder to compare with (`--baseline`), with `max_drop`.
        max_drop: {metric key: "5%" (relative) or 0.01 (absolute)} (`--max-drop`).

    Raises:
        GateFailed: a gate failed (exit code 1); `.failures` has one line per gate, `.metrics` the figures.
    """
    drops = [f"{key}={value}" for key, value in arguments.numbers(max_drop, "max_drop", "{'test/ndcg@10': '5%'}").items()]
    floors = arguments.numbers(fail_under, "fail_under", "{'test/ndcg@10': 0.05}")
    outcome = commands.execute("evaluate", _overrides("evaluate", overrides, run_dir), config_dir=config_dir,
                               force=force, fail_under=floors, baseline=arguments.folder(baseline, "baseline"), max_drop=drops)
    if outcome.failed:
        raise GateFailed(outcome.failed, outcome.metrics)
    assert outcome.run_dir is not None
    return Run(outcome.run_dir)


def sweep(*overrides: str, verb: str = "train", run_dir: PathLike | None = None, config_dir: PathLike | None = None,
          force: bool = False) -> Path:
    """A Hydra multirun (`dynrec VERB -m ...`), e.g. sweep("model=sasrec", "seed=0,1", run_dir="runs/s").

    Returns the sweep folder (a run folder per job, numbered, and sweep_summary.md/.csv; without
    run_dir= runs/multirun/<time>). Hydra sets up logging in the process, as `@hydra.main` does.
    DynrecError when a job was refused (the others still ran).
    """
    folder = arguments.folder(run_dir, "run_dir")
    items = [*arguments.overrides(overrides), *([override("run_dir", folder)] if folder is not None else [])]
    return commands.sweep(verb, items, config_dir=config_dir, force=force)
