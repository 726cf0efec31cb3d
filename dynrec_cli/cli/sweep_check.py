"""Check a sweep's overrides before any job runs: a typo must not surface in job 7 of 12."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from omegaconf import DictConfig

from dynrec_cli.cli import _hydra
from dynrec_cli.errors import ConfigError


def sweep_choices(overrides: list[str]) -> list[list[str]]:
    """Each override as its list of `key=value` choices (one for a plain override).

    A range or choice sweep lists every value; an interval (a continuous search space, e.g.
    for Optuna) is checked through its key only, with its lower bound.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    out = []
    for override, text in zip(parsed, overrides):
        if not override.is_sweep_override():
            out.append([text])
            continue
        key = override.get_key_element()
        if override.is_discrete_sweep():
            out.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            out.append([f"{key}={override.value().start}"])
    return out


def refuse_sweeping_a_trained_run(verb: str, overrides: list[str]) -> None:
    """capture, rank and evaluate given run_dir=DIR read the one trained run in DIR and never
    train; Hydra's jobs would each get a folder of their own (DIR/<n>) and train a new model
    there, so such a sweep is refused with the way to vary the evaluation settings instead."""
    from dynrec_cli.run_overrides import NEEDS_TRAINED_RUN, given_run_dir

    run_dir = given_run_dir(overrides)
    if verb in NEEDS_TRAINED_RUN and run_dir is not None:
        raise ConfigError(
            f"dynrec {verb} -m run_dir={run_dir}: {verb} reads the one trained run there and never trains, so it does "
            f"not sweep; run it once per value instead (dynrec {verb} run_dir={run_dir} KEY=V1, then KEY=V2: each "
            f"replaces {run_dir}/{verb}/, so copy what you keep in between), or sweep from training: dynrec train -m "
            "run_dir=SWEEP KEY=V1,V2"
        )


def validate_sweep(verb: str, overrides: list[str], config_dir: Path | None,
                   on_launcher: Callable[[DictConfig], None] | None = None,
                   check_classes: Callable[[set[tuple[str, str]]], None] | None = None) -> list[list[str]]:
    """Compose the first job, then each other value of every swept key once; ConfigError on the
    first failure, or on a key that none of those jobs reads (config_unused.py). The grid of a sweep
    file (`hydra.sweeper.params`, e.g. `+sweep=adapters_seeds`) is checked as well, less the keys
    the command line gives (they replace the file's lines). `on_launcher` gets `hydra.launcher`
    once the first job composes, while the other values are still being checked. The classes the
    jobs build are checked last, by `check_classes` (default: imported here, `targets.check_classes`).
    Returns the jobs composed (their overrides), which Hydra need not compose again."""
    from dynrec_cli import targets
    from dynrec_cli.config_checks import validate_config
    from dynrec_cli.config_unused import refuse_unused, unused_keys

    choices = _choices(overrides, "sweep overrides")
    first = [values[0] for values in choices]
    # a typo or a missing plugin: refused before the sweep file's grid is read; the names the jobs
    # build are matched as text while composing, and imported (torch) once every value composed
    composed, settings = _hydra.compose_with_hydra(verb, first, config_dir)
    if on_launcher is not None:
        on_launcher(settings.launcher)
    validate_config(composed, classes=False)
    checked = {tuple(first): composed}
    given = {values[0].split("=", 1)[0].lstrip("+~") for values in choices}
    params = _hydra.sweeper_params(settings)
    extra = _choices([f"{key}={value}" for key, value in params.items() if key not in given], "hydra.sweeper.params")
    choices, first = choices + extra, first + [values[0] for values in extra]
    jobs = [first] + [first[:i] + [value] + first[i + 1 :] for i, values in enumerate(choices) for value in values[1:]]
    for job in jobs:
        if tuple(job) not in checked:
            checked[tuple(job)] = _compose(verb, job, config_dir)
    unused: set[str] | None = None
    for job in jobs:
        found = unused_keys(checked[tuple(job)], verb, job, config_dir)
        unused = found if unused is None else unused & found
    if unused:  # read by no job: refused as in a single run
        refuse_unused(checked[tuple(first)], verb, first, config_dir, only=unused)
    named = set().union(*(targets.named_classes(cfg) for cfg in checked.values()))
    (check_classes or targets.check_classes)(named)
    return [list(job) for job in checked]


def _choices(overrides: list[str], where: str) -> list[list[str]]:
    from hydra.errors import HydraException

    try:
        return sweep_choices(overrides)
    except HydraException as exc:
        raise ConfigError(f"{where}: {' '.join(str(exc).split())}") from None


def _compose(verb: str, overrides: list[str], config_dir: Path | None) -> DictConfig:
    from dynrec_cli.config_checks import validate_config

    cfg = _hydra.compose_config(verb, overrides, config_dir)
    validate_config(cfg, classes=False)  # ranges too, not only key names; the classes: validate_sweep
    return cfg
