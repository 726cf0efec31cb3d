"""Data files given as URLs (`data.interactions=s3://bucket/log.parquet`, `gs://`, `https://`,
`memory://`, any scheme fsspec knows): read through fsspec.

Each URL is fetched once per command into a local copy, hashed as it streams, and the readers
read the copy like any local file; the prepare manifest records the URL with the hash of its
content. A folder URL (s3://bucket/ml-100k/) brings its files, not its sub-folders; HTTP has no
folder listing, so give https:// URLs of files. The copies live in a temporary folder removed
with the command's stage context. A scheme whose filesystem package is not installed is a
ConfigError naming the extra that installs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from dynrec_cli import artifacts
from dynrec_cli.errors import ConfigError, DataError, DynrecError

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
# scheme -> (the package fsspec needs for it, the dynrec extra that installs it)
EXTRAS = {"s3": ("s3fs", "s3"), "s3a": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "gcs": ("gcsfs", "gcs"),
          "http": ("aiohttp", "http"), "https": ("aiohttp", "http")}
_BLOCK = 1 << 24


def is_url(value: object) -> bool:
    return isinstance(value, str) and _SCHEME.match(value) is not None


def check_url(url: str, key: str) -> None:
    """Fail before any work when fsspec has no filesystem for the URL's scheme, or its package is missing."""
    import fsspec

    scheme = _SCHEME.match(url).group(1).lower()
    try:
        fsspec.get_filesystem_class(scheme)
    except ValueError:
        raise ConfigError(f"{key}={url}: fsspec knows no {scheme}:// filesystem (a local path, or s3://, gs://, "
                          "https://, memory://, ...)") from None
    except ImportError as exc:
        package, extra = EXTRAS.get(scheme, (None, None))
        hint = f"pip install 'dynrec[{extra}]'" if extra else str(exc)
        raise ConfigError(f"{key}={url}: reading {scheme}:// needs {package or 'its filesystem package'}: {hint}") from None


@dataclass
class Copies:
    """The local copies of one command's URLs: URL -> local file or folder, and the sha256 of
    each file's content by its URL. The folder goes when this object does."""

    local: dict[str, Path] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    folder: tempfile.TemporaryDirectory | None = None  # made for the first URL: local data needs none

    def scratch(self) -> Path:
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="dynrec-remote-")
        return Path(self.folder.name)

    def files_of(self, url: str) -> dict[str, str]:
        """{URL of each file: sha256} for a file URL, or for every file of a folder URL."""
        prefix = url.rstrip("/") + "/"
        return {u: h for u, h in self.hashes.items() if u == url or u.startswith(prefix)}


def copies_of(cache: dict) -> Copies:
    """The copies kept in a stage context's cache (one per command)."""
    return cache.setdefault("remote", Copies())


def localise(value: str | None, key: str, copies: Copies) -> Path | None:
    """A data.* value as a local path: a URL is fetched (once per command) into `copies`."""
    if value is None:
        return None
    if not is_url(value):
        return Path(value).expanduser()
    if value not in copies.local:
        check_url(value, key)
        copies.local[value] = _fetch(value, key, copies)
    return copies.local[value]


def _fetch(url: str, key: str, copies: Copies) -> Path:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    try:
        info = fs.info(root)
    except FileNotFoundError:
        raise DataError(url, "not found", fix=f"check {key}") from None
    except OSError as exc:
        raise DataError(url, f"cannot be read ({exc})", fix=f"check {key}") from None
    target = copies.scratch() / hashlib.sha256(url.encode()).hexdigest()[:16]
    if info["type"] != "directory":
        name = PurePosixPath(urlparse(url).path).name or "data"
        _copy(fs, root, target / name, url, copies)
        return target / name
    for entry in fs.ls(root, detail=True):
        if entry["type"] == "file":
            name = PurePosixPath(entry["name"]).name
            _copy(fs, entry["name"], target / name, f"{url.rstrip('/')}/{name}", copies)
    return target


def _copy(fs: object, source: str, target: Path, url: str, copies: Copies) -> None:
    """Stream `source` into `target` (through a temporary file and a rename), hashing it."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with fs.open(source, "rb") as remote, artifacts.atomic_path(target) as tmp, open(tmp, "wb") as local:
            while block := remote.read(_BLOCK):
                digest.update(block)
                local.write(block)
    except FileNotFoundError:
        raise DataError(url, "not found") from None
    except OSError as exc:
        raise DataError(url, f"reading it failed ({exc})") from None
    copies.hashes[url] = digest.hexdigest()


@contextlib.contextmanager
def named_as_urls(copies: Copies) -> Iterator[None]:
    """Errors and warnings about a local copy name its URL instead (the file a user gave)."""

    def as_url(text: str) -> str:
        for url, local in copies.local.items():
            text = text.replace(str(local), url.rstrip("/"))
        return text

    renamer = _Renamer(as_url)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(renamer)
    try:
        yield
    except DynrecError as exc:
        exc.args = (as_url(str(exc)),)
        if isinstance(exc, DataError):
            exc.path = as_url(exc.path)
        raise
    finally:
        for handler in handlers:
            handler.removeFilter(renamer)


class _Renamer(logging.Filter):
    """Rewrites each log record's message (a warning about a local copy names its URL)."""

    def __init__(self, rename: Callable[[str], str]) -> None:
        super().__init__()
        self.rename = rename

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.rename(record.getMessage()), None
        return True
