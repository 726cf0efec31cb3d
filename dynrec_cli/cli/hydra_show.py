"""`--cfg job|hydra|all` (with `--resolve`, `--package`) and `--info [MODE]`, printed by Hydra itself.

The overrides are composed by dynrec first (a typo is one red line, exit 2, as for a run), then
handed to a real `@hydra.main` that prints and returns without running anything, so the output
is exactly what Hydra users know.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from dynrec_cli.cli import _hydra

CFG_MODES = ("job", "hydra", "all")
INFO_MODES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")


def hydra_flags(cfg: str | None, resolve: bool, package: str | None, info: str | None) -> list[str]:
    """Hydra's own command-line flags for these choices."""
    flags = ["--cfg", cfg] if cfg else ["--info", info] if info else []
    return flags + (["--resolve"] if resolve else []) + (["--package", package] if package else [])


def show(verb: str, overrides: list[str], config_dir: Path | None, flags: list[str], multirun: bool = False) -> None:
    """Let Hydra print what `flags` ask for about `verb`'s config with `overrides`."""
    import hydra

    @hydra.main(config_path=str(_hydra.CONF_DIR), config_name=verb, version_base="1.3")
    def job(_cfg: object) -> None:  # never called: --cfg and --info print, then return
        raise AssertionError("hydra ran the task instead of printing")

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers = []  # --info logs through a stdout handler of its own: not also through ours
    saved = sys.argv
    sys.argv = ["dynrec", *flags, *(["--multirun"] if multirun else []), *_hydra._search_path(config_dir), *overrides]
    try:
        job()
    finally:
        sys.argv = saved
        root.handlers, root.level = handlers, level
