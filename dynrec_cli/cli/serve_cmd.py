"""`dynrec serve` and `dynrec forget`: compose the config, check the trained run, then serve or forget.

Both check a trained run as `dynrec capture` does (a trained run_dir=, no override that would
retrain it) but run no stage and write no config.json: the run's files never record a token or a
forgotten user's id.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import typer
from rich.markup import escape

from dynrec_cli.cli import _hydra
from dynrec_cli.api.commands import compose_run
from dynrec_cli.cli.verbs import console, setup_logging
from dynrec_cli.errors import ConfigError, DynrecError
from dynrec_cli.stages.base import StageContext

EXTRA = "serve"  # the pip extra that brings FastAPI, uvicorn and prometheus_client


def _open_run(verb: str, overrides: list[str], config_dir: Path | None) -> StageContext:
    """The trained run of `run_dir=`, checked as capture checks it; nothing is written."""
    from dynrec_cli import pipeline

    cfg = compose_run(verb, overrides, config_dir)[1]
    if not cfg.run_dir:
        raise ConfigError(f"dynrec {verb} needs run_dir=DIR, a trained run (dynrec train run_dir=DIR ...)")
    return pipeline.check_trained_run(cfg, verb)


def _one_line(action: Callable[[], None]) -> None:
    """Run the command; our errors are one red line and exit code 2 (Ctrl-C is the server's own stop)."""
    setup_logging()
    try:
        action()
    except DynrecError as exc:
        console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def run_serve(overrides: list[str], config_dir: Path | None, print_config: bool) -> None:
    def serve() -> None:
        from omegaconf import OmegaConf

        for name in ("fastapi", "uvicorn", "prometheus_client"):
            try:
                importlib.import_module(name)
            except ImportError:
                raise ConfigError(f"dynrec serve needs the '{EXTRA}' extra ({name} is missing): pip install 'dynrec[{EXTRA}]'") from None
        if print_config:
            typer.echo(OmegaConf.to_yaml(compose_run("serve", overrides, config_dir, check=False)[1], resolve=False))
            return
        from dynrec_cli.serving.server import run_server
        from dynrec_cli.serving.settings import ServeSettings

        ctx = _open_run("serve", overrides, config_dir)
        run_server(ctx, ServeSettings.from_config(ctx.cfg))

    _one_line(serve)


def run_forget(overrides: list[str], config_dir: Path | None) -> None:
    def forget() -> None:
        from dynrec_cli.capture.forget import forget_offline

        ctx = _open_run("forget", overrides, config_dir)
        user = str(ctx.cfg.user).strip()
        if not user:
            raise ConfigError("user=: empty id")
        console.print(escape(forget_offline(ctx, user)), highlight=False, soft_wrap=True)

    _one_line(forget)
