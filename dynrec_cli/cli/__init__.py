"""The `dynrec` command line: Typer dispatches, Hydra composes, the pipeline runs."""

from dynrec_cli.cli.app import app

__all__ = ["app"]
