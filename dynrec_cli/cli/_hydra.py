"""The only Hydra set-up code: compose a verb's config, or hand a sweep to `@hydra.main`."""

from __future__ import annotations

import contextlib
import difflib
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from dynrec_cli.data.samples import register_resolver
from dynrec_cli.errors import ConfigError, DynrecError

register_resolver()  # data=sample's `${dynrec.sample:...}`, before any config is composed
CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
# config groups that live in a team's own folder (the repo's configs/), not in the package
USER_GROUPS = {
    "experiment": "the repo's are in configs/experiment: dynrec train --config-dir configs +experiment=NAME",
    "sweep": "the repo's are in configs/sweep: dynrec train -m --config-dir configs +experiment=NAME +sweep=NAME",
}
VERBS = ("train", "prepare", "pretrain", "finetune", "capture", "rank", "evaluate", "serve", "forget")


def _search_path(config_dir: Path | None) -> list[str]:
    if config_dir is None:
        return []
    if not config_dir.is_dir():
        raise ConfigError(f"--config-dir {config_dir}: not a folder")
    return [f"hydra.searchpath=[file://{config_dir.resolve()}]"]


def compose_config(verb: str, overrides: list[str], config_dir: Path | None = None) -> DictConfig:
    """Compose `verb`'s primary config with overrides; struct mode stays on."""
    return compose_with_hydra(verb, overrides, config_dir)[0]


def compose_with_hydra(verb: str, overrides: list[str], config_dir: Path | None = None) -> tuple[DictConfig, DictConfig]:
    """`compose_config`, and its `hydra` node apart: the launcher and sweeper a sweep runs with."""
    import copy

    import yaml
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from dynrec_cli import targets

    targets.check_search_path(list(overrides))  # before Hydra imports what a search path names
    everything = _search_path(config_dir) + list(overrides)
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name=verb, overrides=everything, return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_explain(verb, overrides, config_dir, exc)) from None
    except yaml.YAMLError as exc:  # a --config-dir file that is not YAML: the message names it, line and column
        raise ConfigError(f"not valid YAML: {' '.join(str(exc).split())}") from None
    # every name it would build, as text (validate_config imports the job's classes, after the
    # values: a config error is answered before torch); Hydra's sweep plugins imported and checked now
    targets.check_tree(cfg, load=False)
    targets.check_tree(cfg.hydra, "hydra")
    settings = copy.deepcopy(cfg.hydra)
    with open_dict(cfg):
        del cfg["hydra"]  # as compose() leaves it without return_hydra_config
    _refuse_added_typos(verb, overrides, config_dir)
    from dynrec_cli.config_lists import normalise_lists

    normalise_lists(cfg)  # `eval.ks=10` is [10] for every reader, the gate checks included
    return cfg, settings


def sweeper_params(settings: DictConfig) -> dict[str, str]:
    """`hydra.sweeper.params` of the `hydra` node (a sweep file's grid): key -> sweep string."""
    params = OmegaConf.select(settings, "sweeper.params") or {}
    return {str(key): str(value) for key, value in params.items()}


def _refuse_added_typos(verb: str, overrides: list[str], config_dir: Path | None) -> None:
    """`+key=v` / `++key=v` add keys Hydra's struct mode would refuse: allowed only where the new
    key is an argument of a constructor (a node with `_target_`, e.g. `+trainer.optimizer.eps=1e-6`);
    elsewhere nothing reads it, so it is a typo to report before any work, not to ignore."""
    added = [o.split("=", 1)[0].lstrip("+") for o in overrides if o.startswith("+") and "=" in o]
    groups = {d.name for folder in (CONF_DIR, config_dir) if folder and folder.is_dir() for d in folder.iterdir() if d.is_dir()}
    for override in [o for o in overrides if o.split("=", 1)[0].lstrip("+") in set(USER_GROUPS) - groups]:
        group = override.split("=", 1)[0].lstrip("+")
        where = f"--config-dir {config_dir}" if config_dir else "dynrec's own configs (no --config-dir given)"
        raise ConfigError(f"{override}: no {group}/ folder in {where}; {USER_GROUPS[group]}")
    added = [key for key in added if key.split("/")[0] not in groups and not key.startswith("hydra")]  # `+group=option` selects a config
    if not added:
        return
    from hydra import compose, initialize_config_dir

    kept = [o for o in overrides if not o.startswith("+")]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        base = compose(config_name=verb, overrides=_search_path(config_dir) + kept)
    for key in added:
        parts = key.split(".")
        missing = _first_missing(base, parts)
        if missing is not None and not _constructor_takes(base, parts):
            raise ConfigError(_unknown_key(key, *missing))


def _constructor_takes(cfg: DictConfig, parts: list[str]) -> bool:
    """Whether `parts` names a new argument of the `_target_` of its parent node."""
    import inspect

    from dynrec_cli import targets

    place = ".".join(parts[:-1])
    parent = OmegaConf.select(cfg, place) if len(parts) > 1 else None
    if not isinstance(parent, DictConfig) or "_target_" not in parent or parent._target_ is None:
        return False
    try:  # only an allowed class is imported to read its signature
        parameters = inspect.signature(targets.resolve_at(place, parent._target_)).parameters.values()
    except (ValueError, TypeError):
        return False
    return any(p.kind is p.VAR_KEYWORD or p.name == parts[-1] for p in parameters)


def _unknown_key(key: str, parent: str, leaf: str, valid: list[str]) -> str:
    near = difflib.get_close_matches(leaf, valid, n=3)
    prefix = f"{parent}." if parent else ""
    hint = f" Did you mean {', '.join(prefix + n for n in near)}?" if near else ""
    where = f"under '{parent}'" if parent else "at the top level"
    return f"unknown config key '{key}'.{hint} Valid keys {where}: {', '.join(valid)}"


def _explain(verb: str, overrides: list[str], config_dir: Path | None, exc: Exception) -> str:
    """One line: which override failed, and the valid keys near the typo."""
    from hydra import compose, initialize_config_dir

    groups = [o for o in overrides if "=" in o and "." not in o.split("=", 1)[0].lstrip("+~")]
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            base = compose(config_name=verb, overrides=_search_path(config_dir) + groups)
    except Exception:  # the group choice itself is wrong: Hydra's message names the options
        return _one_line(exc)
    for override in overrides:
        key = override.split("=", 1)[0]
        if key.startswith(("+", "~")) or key.startswith(("hydra.", "hydra/")) or "=" not in override:
            continue
        missing = _first_missing(base, key.split("."))
        if missing is not None:
            return _unknown_key(key, *missing)
    return _one_line(exc)


def _first_missing(cfg: DictConfig, parts: list[str]) -> tuple[str, str, list[str]] | None:
    """(parent path, missing part, valid keys of the parent) for the first part not in cfg."""
    node = cfg
    for depth, part in enumerate(parts):
        if not isinstance(node, DictConfig):
            return None
        if part not in node:
            return ".".join(parts[:depth]), part, [str(k) for k in node.keys()]
        node = node[part]
    return None


def _one_line(exc: Exception) -> str:
    from dynrec_cli.cli.plugins import missing_plugin

    text = " ".join(str(exc).split())
    if hint := missing_plugin(text):  # hydra/launcher=joblib without its plugin: the extra, not "choose one of: basic"
        return hint
    missing = re.search(r"Could not find '([^'/]+)/([^']+)' Available options in '[^']+': (.*?) Config search path", text)
    if missing:  # an unknown option of a config group: name the public choices, not Hydra's search path
        group, option, choices = missing.groups()
        public = [c for c in choices.split() if not c.startswith("_")]
        return f"unknown {group}={option}; choose one of: {', '.join(public)} (or add {group}/{option}.yaml with --config-dir)"
    return text


def run_sweep(
    verb: str, overrides: list[str], config_dir: Path | None, task: Callable[[DictConfig, list[str]], dict],
    failures: list[str], composed: Sequence[Sequence[str]] = (),
) -> Path:
    """Hand the sweep to a real `@hydra.main` so the whole sweep grammar and plugins work.

    With `run_dir=DIR` the jobs go to DIR/<job number>; otherwise to runs/multirun/<time>/<n>.
    `task(cfg, job_overrides)` returns the job's metrics; the job hands the objective
    (`trainer.objective`) back to Hydra, which is what a sweeper such as Optuna maximises.
    Jobs may run in other processes (hydra/launcher=joblib, ray, submitit): a job refused for bad
    input or config (DynrecError) is said in one line where it runs and recorded in the sweep
    folder; `failures` gets one "RUN_DIR: message" per refused job once the sweep is done, and
    the other jobs still run. `composed`: jobs (their overrides) composed and checked already,
    which Hydra's sweeper does not compose once more before launching. Returns the sweep folder.
    """
    import hydra
    from hydra.core.hydra_config import HydraConfig

    from dynrec_cli import sweeps

    args = [f"hydra.sweep.dir={o.split('=', 1)[1]}" if o.startswith("run_dir=") else o for o in overrides]
    given = [a.split("=", 1)[1] for a in args if a.startswith("hydra.sweep.dir=")]
    if not given:  # fixed here, not by ${now:} wherever a job runs: this process reads the folder afterwards
        given = [time.strftime("runs/multirun/%Y-%m-%d_%H-%M-%S")]
        args.append(f"hydra.sweep.dir={given[0]}")
    sweep_dir = Path(given[-1])
    sweeps.take_refusals(sweep_dir)  # records left by an earlier sweep into the same folder

    @hydra.main(config_path=str(CONF_DIR), config_name=verb, version_base="1.3")
    def job(cfg: DictConfig) -> float | None:
        hydra_cfg = HydraConfig.get()
        with open_dict(cfg):
            cfg.run_dir = str(Path(hydra_cfg.sweep.dir) / hydra_cfg.sweep.subdir)
        _place(hydra_cfg, cfg)
        # the job's own choices, recorded in its run folder; the search itself is not part of a run
        try:
            metrics = task(cfg, [o for o in hydra_cfg.overrides.task if not o.startswith("hparams_search=")])
        except DynrecError as exc:  # one line, as outside a sweep; Hydra would print its traceback
            sweeps.record_refusal(Path(hydra_cfg.sweep.dir), int(hydra_cfg.job.num), f"{cfg.run_dir}: {exc}")
            logging.getLogger(__name__).error("job %s failed: %s", cfg.run_dir, exc)
            return None
        finally:  # a worker process is stopped without waiting once the sweep is done: nothing left in its buffers
            sys.stdout.flush()
            sys.stderr.flush()
        value = metrics.get(str(cfg.trainer.objective))
        return None if value is None else float(value)

    saved = sys.argv
    sys.argv = ["dynrec", "--multirun", *_search_path(config_dir), *args]
    try:
        with _composed_already({_task_overrides(job) for job in composed}):
            job()
    finally:
        sys.argv = saved
    failures.extend(sweeps.take_refusals(sweep_dir))
    return sweep_dir


def _task_overrides(job: Sequence[str]) -> frozenset[str]:
    """A job's overrides as Hydra's basic sweeper writes them into a batch: `key=value` as Hydra
    prints it, without the `hydra` ones (and `run_dir`, which becomes `hydra.sweep.dir`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides([o for o in job if not o.startswith("run_dir=")])
    return frozenset(f"{o.get_key_element()}={o.get_value_element_as_str()}" for o in parsed if not o.is_hydra_override())


@contextlib.contextmanager
def _composed_already(composed: set[frozenset[str]]) -> Iterator[None]:
    """Hydra's sweepers compose every job of a batch before launching it (`validate_batch_is_legal`,
    0.2-0.3 s a job); the jobs `validate_sweep` composed and checked are left out of that."""
    from hydra.plugins.sweeper import Sweeper

    validate = Sweeper.validate_batch_is_legal

    def validate_the_others(self: Sweeper, batch: Sequence[Sequence[str]]) -> None:
        validate(self, [job for job in batch if frozenset(job) not in composed])

    Sweeper.validate_batch_is_legal = validate_the_others  # type: ignore[method-assign]
    try:
        yield
    finally:
        Sweeper.validate_batch_is_legal = validate  # type: ignore[method-assign]


def _place(hydra_cfg: DictConfig, cfg: DictConfig) -> None:
    """Under the joblib launcher: this job's share of the cores and its GPU (training/placement.py)."""
    from dynrec_cli.training import placement

    launcher = hydra_cfg.launcher
    if placement.is_joblib(str(launcher.get("_target_", ""))):
        said = placement.place_joblib_job(int(hydra_cfg.job.num), launcher.get("n_jobs"), cfg.trainer.threads,
                                          str(cfg.trainer.device))
        logging.getLogger(__name__).info("job %s: %s", hydra_cfg.job.num, said or "as configured")


def group_sources(verb: str, overrides: list[str], config_dir: Path | None) -> list[str]:
    """'group/option  file' for each config the defaults list loaded, in load order."""
    return [f"{path:<24} {origin}" for path, _, origin in _loaded_configs(verb, overrides, config_dir)]


def config_dir_keys(verb: str, overrides: list[str], config_dir: Path) -> dict[str, Path]:
    """Dotted key -> the --config-dir file that sets it, for every config loaded from config_dir."""
    keys: dict[str, Path] = {}
    for _, package, origin in _loaded_configs(verb, overrides, config_dir):
        if origin.parent != config_dir and config_dir not in origin.parents:
            continue
        content = OmegaConf.load(origin)
        if not isinstance(content, DictConfig):
            continue
        prefix = package.removeprefix("_global_").strip(".")
        for key in content.keys():
            if key not in ("defaults", "hydra"):  # the file's own defaults list and Hydra's settings
                child = content._get_node(key)
                dotted = f"{prefix}.{key}" if prefix else str(key)
                keys.update(dict.fromkeys(_leaves(child, dotted) if isinstance(child, DictConfig) else [dotted], origin))
    return keys


def _leaves(node: DictConfig, prefix: str) -> list[str]:
    """The dotted keys of every value under `node` (a list is one value)."""
    out = []
    for key in node.keys():
        dotted = f"{prefix}.{key}"
        child = node._get_node(key)
        out += _leaves(child, dotted) if isinstance(child, DictConfig) else [dotted]
    return out


def _loaded_configs(verb: str, overrides: list[str], config_dir: Path | None) -> list[tuple[str, str, Path]]:
    """(group/option, package, file) for each config the defaults list loaded, in load order."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    everything = _search_path(config_dir) + list(overrides)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        defaults = loader.compute_defaults_list(config_name=verb, overrides=everything, run_mode=_run_mode())
    loaded = []
    for node in defaults.defaults:
        if node.config_path is None or node.config_path.startswith(("hydra/", "_dummy")) or node.package.startswith("hydra"):
            continue
        # hydra.searchpath is appended after the primary folder: a shipped file shadows a --config-dir file of its name
        shipped = CONF_DIR / f"{node.config_path}.yaml"
        origin = shipped if shipped.exists() or config_dir is None else config_dir / f"{node.config_path}.yaml"
        loaded.append((node.config_path, node.package, origin))
    return loaded


def _run_mode():  # noqa: ANN202 - Hydra's enum
    from hydra.types import RunMode

    return RunMode.RUN
