"""What a stage is: a name, the stages it reads, the config it depends on, and `run`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from omegaconf import DictConfig

from dynrec_cli import artifacts
from dynrec_cli.errors import ArtifactError


@dataclass
class StageContext:
    """Shared by the stages of one run: the config, the run folder and cached loads."""

    cfg: DictConfig
    run_dir: Path
    cache: dict[str, Any] = field(default_factory=dict)

    def stage_dir(self, name: str) -> Path:
        return self.run_dir / name

    def prepared(self) -> Any:
        """The prepared data set (verified against the prepare manifest), loaded once."""
        if "prepared" not in self.cache:
            from dynrec_cli.data.store import load_prepared

            self.cache["prepared"] = load_prepared(self.stage_dir("prepare"))
        return self.cache["prepared"]


class Stage:
    """A pipeline stage. Subclasses set NAME and DEPENDS and implement `run`."""

    NAME: ClassVar[str]
    DEPENDS: ClassVar[tuple[str, ...]] = ()
    # under torchrun: True = every rank runs the stage (rank 0 writes it); False = rank 0 alone
    DATA_PARALLEL: ClassVar[bool] = False
    # the config keys that set the stage's peak memory: what an out-of-memory error says to lower
    MEMORY_KEYS: ClassVar[tuple[str, ...]] = ()

    def config_sections(self, cfg: DictConfig) -> dict[str, Any]:
        """The config this stage's output depends on (its hash decides re-runs)."""
        return {}

    def inputs(self, ctx: StageContext) -> dict[str, str]:
        """Identities of what the stage reads: upstream stage fingerprints by default."""
        return {name: upstream_fingerprint(ctx.run_dir, name) for name in self.DEPENDS}

    def run(self, ctx: StageContext, out: Path) -> dict[str, Any]:
        """Write the stage's artifacts into `out`; return the figures for the manifest."""
        raise NotImplementedError

    def report(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        """Show a skipped stage's figures (default: nothing)."""

    def after_commit(self, ctx: StageContext, manifest: dict[str, Any]) -> None:
        """Work after the stage folder is in place (default: show the figures)."""
        self.report(ctx, manifest)


@functools.lru_cache(maxsize=64)
def _fingerprint_of(manifest_path: str, mtime_ns: int) -> str:
    manifest = artifacts.load_manifest(Path(manifest_path).parent)
    assert manifest is not None
    return artifacts.fingerprint(manifest)


def upstream_fingerprint(run_dir: Path, name: str) -> str:
    path = run_dir / name / artifacts.MANIFEST
    if not path.exists():
        raise ArtifactError(f"{run_dir / name}: stage '{name}' has not run (run `dynrec {name}` first)")
    return _fingerprint_of(str(path), path.stat().st_mtime_ns)
