"""What every pipeline verb does: compose the config, run the stages, turn our errors into exit 2."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from omegaconf import DictConfig
from rich.console import Console
from rich.markup import escape  # messages quote overrides like k=[1,2]: not markup

from dynrec_cli import run_files
from dynrec_cli.cli import _hydra
from dynrec_cli.errors import ArtifactError, ConfigError, DynrecError

console = Console(stderr=True)
RUN_OVERRIDES = "overrides.json"


def setup_logging() -> None:
    from rich.logging import RichHandler

    root = logging.getLogger()
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        root.handlers = [RichHandler(console=console, show_path=False, rich_tracebacks=False)]
        root.setLevel(logging.INFO)


def _override_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _recorded_file(overrides: list[str]) -> Path | None:
    """DIR/overrides.json of the run_dir= given, when there is one."""
    run_dirs = [o.split("=", 1)[1] for o in overrides if o.startswith("run_dir=")]
    saved = Path(run_dirs[-1]) / RUN_OVERRIDES if run_dirs else None
    return saved if saved is not None and saved.exists() else None


def with_run_overrides(overrides: list[str]) -> list[str]:
    """Prepend the overrides an existing run folder was made with, so `dynrec evaluate
    run_dir=DIR eval.ks=[10]` re-evaluates that run with only `eval.ks` changed."""
    saved = _recorded_file(overrides)
    if saved is None:
        return overrides
    recorded = run_files.read_json(saved, run_files.OVERRIDES)
    given = {_override_key(o): o for o in overrides}
    # a group given another option (`model=pop` on a run recorded with `model=sasrec model.hidden=16`)
    # starts from that option: the old option's keys would not exist under it
    switched = {key for key, o in given.items() if "." not in key and o not in recorded}
    return [o for o in recorded if _override_key(o) not in given
            and not any(_override_key(o).startswith(group + ".") for group in switched)] + overrides


def compose_run(verb: str, given: list[str], config_dir: Path | None) -> tuple[list[str], DictConfig]:
    """The run's recorded overrides and the given ones, and their composed config. A name the
    allowlist refuses (targets.py) that a recorded override set is blamed on DIR/overrides.json."""
    from dynrec_cli.targets import Refused

    overrides = with_run_overrides(given)
    try:
        return overrides, _hydra.compose_config(verb, overrides, config_dir)
    except Refused as exc:
        recorded = overrides[: len(overrides) - len(given)]
        related = [o for o in overrides if _override_key(o) == exc.path or exc.path.startswith(f"{_override_key(o)}.")
                   or _override_key(o).startswith(f"{exc.path}.")]
        source = max(related, key=lambda o: len(_override_key(o)), default=None)  # the most specific one
        if source in recorded:
            raise ArtifactError(f"{_recorded_file(given)}: recorded override '{source.split('=', 1)[0]}': {exc}") from None
        raise


def parse_gates(items: list[str]) -> dict[str, float]:
    gates: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            gates[key] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ConfigError(f"--fail-under {item}: expected KEY=NUMBER, e.g. test/ndcg@10=0.05")
    return gates


def check_gates(gates: dict[str, float], metrics: dict[str, float]) -> list[str]:
    from dynrec_cli.evaluation.gates import unknown_keys_message

    from dynrec_cli.evaluation.gates import check_empty_segments

    check_empty_segments("--fail-under", list(gates), metrics)
    unknown = [key for key in gates if key not in metrics]
    if unknown:
        raise ConfigError(unknown_keys_message("--fail-under", unknown, sorted(metrics)))
    return [f"{key} = {metrics[key]:.4f} < {limit}" for key, limit in gates.items() if metrics[key] < limit]


def check_baseline_options(baseline: Path | None, max_drop: list[str]) -> None:
    """Fail before any work on a bad --baseline/--max-drop pair."""
    from dynrec_cli.evaluation.gates import parse_max_drops

    parse_max_drops(max_drop)
    if (baseline is None) != (not max_drop):
        raise ConfigError("--baseline RUN and --max-drop KEY=VALUE go together, e.g. --baseline runs/main --max-drop test/ndcg@10=5%")
    if baseline is not None and not (baseline / "evaluate" / "per_user.parquet").exists():
        raise ConfigError(f"--baseline {baseline}: no evaluated run there (run `dynrec evaluate run_dir={baseline}` first)")


def run_verb(
    verb: str,
    overrides: list[str],
    config_dir: Path | None,
    multirun: bool,
    print_config: bool,
    force: bool,
    fail_under: list[str] | tuple[str, ...] = (),
    baseline: Path | None = None,
    max_drop: list[str] | tuple[str, ...] = (),
) -> None:
    setup_logging()
    try:
        gates = parse_gates(list(fail_under))
        check_baseline_options(baseline, list(max_drop))
        from dynrec_cli import pipeline

        # a search space (hparams_search=) or a sweep file (+sweep=) means a sweep, as -m does
        if (multirun or any(o.startswith(("hparams_search=", "+sweep=")) for o in overrides)) and not print_config:
            from dynrec_cli.cli.sweep_check import refuse_sweeping_a_trained_run, validate_sweep

            refuse_sweeping_a_trained_run(verb, overrides)
            validate_sweep(verb, overrides, config_dir)  # a typo fails here, before any job runs
            failures: list[str] = []
            sweep_dir = _hydra.run_sweep(
                verb, overrides, config_dir, lambda cfg, job: pipeline.run_task(cfg, verb, force=force, overrides=job), failures
            )
            if sweep_dir is not None:
                from dynrec_cli.sweeps import report_sweep

                report_sweep(sweep_dir)
            if failures:
                raise DynrecError(f"{len(failures)} job(s) of the sweep refused; the first: {failures[0]}")
            return
        overrides, cfg = compose_run(verb, overrides, config_dir)
        if print_config:
            from omegaconf import OmegaConf

            typer.echo(OmegaConf.to_yaml(cfg, resolve=True))
            return
        if gates or max_drop:
            from dynrec_cli.evaluation.gates import check_metric_keys, parse_max_drops

            ks = list(cfg.eval.ks)
            check_metric_keys("--fail-under", list(gates), ks)
            check_metric_keys("--max-drop", [d.key for d in parse_max_drops(list(max_drop))], ks)
        if baseline is not None and not cfg.run_dir:
            raise ConfigError("--baseline compares a run folder: give it as run_dir=DIR")
        # capture/rank/evaluate with run_dir=DIR: DIR must hold a trained run (a typo must not train a new one)
        metrics = pipeline.run_task(cfg, verb, force=force, overrides=overrides, require_trained=True)
        failed = check_gates(gates, metrics)
        if baseline is not None:
            from dynrec_cli.cli.compare_cmd import gate_against_baseline
            from dynrec_cli.evaluation.gates import check_empty_segments, parse_max_drops

            check_empty_segments("--max-drop", [d.key for d in parse_max_drops(list(max_drop))], metrics)
            failed += gate_against_baseline(Path(cfg.run_dir), baseline, list(max_drop), cfg.eval.compare)
    except DynrecError as exc:
        console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]")
        raise typer.Exit(130) from None
    if failed:
        for line in failed:
            console.print(f"[bold red]gate failed:[/bold red] {escape(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def show_config(verb: str, overrides: list[str], config_dir: Path | None) -> None:
    """Print the composed config, then which option of each group was chosen and from where."""
    from omegaconf import OmegaConf

    setup_logging()
    if verb not in _hydra.VERBS:
        console.print(f"[bold red]error:[/bold red] --verb {escape(verb)}: choose one of {', '.join(_hydra.VERBS)}",
                      highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    try:
        overrides, cfg = compose_run(verb, overrides, config_dir)
        sources = _hydra.group_sources(verb, overrides, config_dir)
    except DynrecError as exc:
        console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    typer.echo(OmegaConf.to_yaml(cfg, resolve=False))
    typer.echo("# where it came from")
    for line in sources:
        typer.echo(f"#   {line}")
    if overrides:
        typer.echo(f"#   overrides: {' '.join(overrides)}")
