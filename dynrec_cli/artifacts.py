"""Atomic writes, content hashes and stage manifests.

Every artifact goes through a temporary path in the same folder and a rename, so a crash never
leaves half a file. A stage writes its whole folder under a temporary name and renames it into
place once its manifest is written: a stage folder either is complete or does not exist.
Files and folders end with the modes open() and mkdir() give (0o666 / 0o777 & ~umask), not the
private 0600 / 0700 of their temporaries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from dynrec_cli import __version__, run_files
from dynrec_cli.errors import ArtifactError

MANIFEST = "manifest.json"
# Bumped when a stage's artifact format changes, so old run folders are refused, not misread.
# 2: event times are int64 nanoseconds (prepared events, the models' time features), not seconds.
ARTIFACT_VERSION = 2


_UMASK: int | None = None
_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read once (os.umask can only be read by setting it, so set and restore)."""
    global _UMASK
    with _UMASK_LOCK:
        if _UMASK is None:
            _UMASK = os.umask(0o077)  # stricter, not looser, for the instant it is set
            os.umask(_UMASK)
        return _UMASK


def _as_created(path: Path, folder: bool = False) -> None:
    """Give a mkstemp/mkdtemp path (0600/0700) the mode open()/mkdir() would: 0o666/0o777 & ~umask."""
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def file_hash(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def config_hash(sections: Mapping[str, Any]) -> str:
    """Stable hash of config sections (resolved, keys sorted)."""
    plain = {
        key: OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value
        for key, value in sections.items()
    }
    text = json.dumps(plain, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    The file gets the mode a plain open() would give it (0o666 & ~umask), not mkstemp's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _as_created(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, payload: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


class StageFolder:
    """A stage's output folder, written under a temporary name and swapped in on `commit`.

    While it lives, the writer holds a shared lock on the parent folder (the run folder); the
    temporary folders a killed command left (`.NAME.xxxx/`) are removed first, by a writer that
    can take that lock exclusively, i.e. when no other command is writing there (see
    `remove_stale_folders`).
    """

    def __init__(self, final: Path) -> None:
        self.final = Path(final)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self._lock = remove_stale_folders(self.final, keep_lock=True)
        try:
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.", dir=self.final.parent))
        except BaseException:
            self._release()
            raise
        _as_created(self.path, folder=True)  # mkdtemp's 0700 would stay on the renamed stage folder

    def commit(self, manifest: dict[str, Any]) -> None:
        """Write the manifest last, then replace the old folder by the new one."""
        manifest["outputs"] = {
            str(p.relative_to(self.path)): file_hash(p)
            for p in sorted(self.path.rglob("*"))
            if p.is_file()
        }
        write_json(self.path / MANIFEST, manifest)
        trash = None
        if self.final.exists():
            trash = self.final.with_name(f".{self.final.name}.old-{os.getpid()}-{time.time_ns()}")
            os.replace(self.final, trash)
        os.replace(self.path, self.final)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
        self._release()

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # drops the shared lock
            self._lock = None


def remove_stale_folders(final: Path, keep_lock: bool = False) -> int | None:
    """Remove the temporary folders `.NAME.*/` beside `final` that killed commands left behind.

    Every StageFolder writer holds a shared flock on the parent folder until it commits or
    discards, and the kernel drops it when its process dies (kill -9 included). So when this
    process gets the lock exclusively, no writer is alive there and every `.NAME.*` folder is a
    leftover; when it cannot, another command is writing and nothing is removed (a later run
    cleans up). Where locks are not available (no fcntl, a file system without flock), nothing
    is removed either.

    Returns, with `keep_lock`, the descriptor holding the shared lock for the caller's own
    writing (None where locks are not available).
    """
    try:
        fd = os.open(final.parent, os.O_RDONLY)
    except OSError:
        return None
    try:
        if _flock(fd, exclusive=True):
            for leftover in final.parent.glob(f".{final.name}.*"):
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
        if keep_lock and _flock(fd, exclusive=False, wait=True):
            return fd
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None


def _flock(fd: int, exclusive: bool, wait: bool = False) -> bool:
    """Take (or convert to) a flock on `fd`; False when it is held elsewhere or not supported."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock, so no cleanup
        return False
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(fd, mode)
    except OSError:  # BlockingIOError: another writer; others: the file system has no flock
        return False
    return True


def new_manifest(stage: str, seed: int, cfg_hash: str, inputs: dict[str, str]) -> dict[str, Any]:
    return {
        "stage": stage,
        "dynrec_version": __version__,
        "artifact_version": ARTIFACT_VERSION,
        "seed": seed,
        "config_hash": cfg_hash,
        "inputs": inputs,
        "figures": {},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def load_manifest(stage_dir: Path) -> dict[str, Any] | None:
    """The manifest of a complete stage folder, or None when the stage has not run."""
    path = Path(stage_dir) / MANIFEST
    if not path.exists():
        return None
    manifest = run_files.read_json(path, dict)
    if manifest.get("artifact_version") != ARTIFACT_VERSION:
        raise ArtifactError(
            f"{path}: written by dynrec {manifest.get('dynrec_version', '?')!s:.20} with artifact "
            f"version {manifest.get('artifact_version')!s:.20}, this is {ARTIFACT_VERSION} "
            "(rerun with --force or use a new run_dir=)"
        )
    if (problem := run_files.mismatch(manifest, run_files.MANIFEST)) is not None:
        raise ArtifactError(f"{path}: not a dynrec manifest.json ({problem})")
    figures = run_files.FIGURES.get(manifest["stage"])
    if figures is not None and (problem := run_files.mismatch(manifest["figures"], figures, "figures")) is not None:
        raise ArtifactError(f"{path}: not a dynrec manifest.json ({problem})")
    return manifest


def fingerprint(manifest: Mapping[str, Any]) -> str:
    """What downstream stages record as this stage's identity: its config and inputs."""
    payload = json.dumps(
        {"config": manifest["config_hash"], "inputs": manifest["inputs"], "outputs": manifest["outputs"]},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def verified_file(stage_dir: Path, name: str) -> Path:
    """Path of a stage output, after checking its hash against the stage's manifest."""
    manifest = load_manifest(stage_dir)
    if manifest is None:
        raise ArtifactError(f"{stage_dir}: the stage has not run (no {MANIFEST})")
    path = Path(stage_dir) / name
    expected = manifest["outputs"].get(name)
    if expected is None or not path.exists():
        raise ArtifactError(f"{path}: missing from the stage's outputs")
    if file_hash(path) != expected:
        raise ArtifactError(f"{path}: content does not match its manifest (changed or corrupted)")
    return path
