"""What the CLI adds to the Python API: logging, printing, and our errors as one red line and an exit code."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape  # messages quote overrides like k=[1,2]: not markup

from dynrec_cli.api import commands
from dynrec_cli.cli import _hydra
from dynrec_cli.errors import ConfigError, DynrecError

console = Console(stderr=True)


def setup_logging() -> None:
    from rich.logging import RichHandler

    root = logging.getLogger()
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        root.handlers = [RichHandler(console=console, show_path=False, rich_tracebacks=False)]
        root.setLevel(logging.INFO)


def fail(exc: DynrecError) -> typer.Exit:
    """Print `exc` as one red line; the Exit to raise carries its exit code (2: bad input)."""
    console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


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
    hydra_flags: list[str] | tuple[str, ...] = (),
) -> None:
    setup_logging()
    try:
        gates = commands.parse_gates(list(fail_under))
        if print_config or hydra_flags:
            show(verb, overrides, config_dir, list(hydra_flags), multirun)
            return
        if multirun or commands.is_sweep(overrides):
            commands.sweep(verb, overrides, config_dir=config_dir, force=force)
            return
        outcome = commands.execute(verb, overrides, config_dir=config_dir, force=force, fail_under=gates,
                                   baseline=baseline, max_drop=list(max_drop))
    except DynrecError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]")
        raise typer.Exit(130) from None
    if outcome.comparison is not None:
        from dynrec_cli.cli.compare_cmd import print_table

        print_table(outcome.comparison_table, f"against baseline {baseline}")
    if outcome.failed:
        for line in outcome.failed:
            console.print(f"[bold red]gate failed:[/bold red] {escape(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def show(verb: str, overrides: list[str], config_dir: Path | None, hydra_flags: list[str], multirun: bool) -> None:
    """--print-config (the resolved config dynrec runs), or Hydra's own --cfg / --info output."""
    from omegaconf import OmegaConf

    if not (hydra_flags and multirun):  # Hydra composes a sweep's first job itself
        overrides, cfg = commands.compose_run(verb, overrides, config_dir, check=False)  # a typo: one red line, before Hydra
    if not hydra_flags:
        typer.echo(OmegaConf.to_yaml(cfg, resolve=True))
        return
    from dynrec_cli.cli.hydra_show import show as hydra_show

    hydra_show(verb, overrides, config_dir, hydra_flags, multirun)


def show_config(verb: str, overrides: list[str], config_dir: Path | None) -> None:
    """Print the composed config, then which option of each group was chosen and from where."""
    from omegaconf import OmegaConf

    setup_logging()
    try:
        if verb not in _hydra.VERBS:
            raise ConfigError(f"--verb {verb}: choose one of {', '.join(_hydra.VERBS)}")
        overrides, cfg = commands.compose_run(verb, overrides, config_dir, check=False)
        sources = _hydra.group_sources(verb, overrides, config_dir)
    except DynrecError as exc:
        raise fail(exc) from None
    typer.echo(OmegaConf.to_yaml(cfg, resolve=False))
    typer.echo("# where it came from")
    for line in sources:
        typer.echo(f"#   {line}")
    if overrides:
        typer.echo(f"#   overrides: {' '.join(overrides)}")
