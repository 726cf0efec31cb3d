"""The sample data shipped inside the package, and the `${dynrec.sample:NAME}` config resolver.

`data=sample` reads `path: ${dynrec.sample:ml-latest-small}`: the folder of that name beside this
module, wherever dynrec is installed, so `dynrec train` works from any folder.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent
RESOLVER = "dynrec.sample"


def sample_path(name: str) -> str:
    """The absolute folder of the shipped sample `name` (e.g. ml-latest-small)."""
    return str(SAMPLES / name)


def register_resolver() -> None:
    """Make `${dynrec.sample:NAME}` resolvable; called by every module that composes or runs a config."""
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, sample_path)
