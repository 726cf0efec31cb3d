"""One writer per interest store: an advisory lock that `dynrec serve` holds while it runs.

`dynrec serve` holds `<store>/.lock` exclusively for its whole life; `dynrec capture` (with events
or items) and `dynrec forget` hold it exclusively while they write; `dynrec rank` holds it shared
while it reads the store. A command that cannot have it is refused with one line naming the
holder, instead of two writers interleaving generations or a reader meeting a generation that is
being deleted. The lock is the kernel's (`flock`), so a killed holder (even `kill -9`) releases
it with its process: there is never a stale lock to clean up.

The lock file is made with the store (its first commit) or by a server; a command finds it there
and never creates it, so a refused command leaves the store's files exactly as they were. A store
without one (none yet, or one from an older dynrec) has no holder to wait for.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from dynrec_cli.artifacts import current_umask
from dynrec_cli.errors import ArtifactError

LOCK = ".lock"


class StoreLock:
    """An flock on `<store>/.lock`; an exclusive holder writes a line naming itself there."""

    def __init__(self, folder: Path, holder: str, shared: bool = False, create: bool = False) -> None:
        self.folder, self.holder, self.shared, self.create = Path(folder), holder, shared, create
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting (no-op where there is no lock file and `create` is off).

        Raises:
            ArtifactError: another process holds it (the message names that process).
        """
        path = self.folder / LOCK
        if not self.create and not path.exists():
            return  # nobody can hold a lock file that does not exist
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~current_umask())
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            held_by = os.pread(fd, 512, 0).decode(errors="replace").strip() or "another dynrec process"
            os.close(fd)
            raise ArtifactError(f"{self.folder}: the interest store is in use by {held_by}; "
                                f"{self.holder} needs it {'to read' if self.shared else 'alone'}: stop that first") from None
        if not self.shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{self.holder} (pid {os.getpid()})\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            if not self.shared:
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def make_lock_file(folder: Path) -> None:
    """Give a store its lock file (at its first commit)."""
    path = Path(folder) / LOCK
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~current_umask()))


@contextlib.contextmanager
def store_lock(folder: Path, holder: str, shared: bool = False) -> Iterator[None]:
    """Hold the store's lock for the block (see StoreLock)."""
    lock = StoreLock(folder, holder, shared)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()
