"""The store's journal: acknowledged event batches, appended and fsynced before they are applied.

`dynrec serve` answers `POST /events` only once the batch is a line of `<store>/journal/*.jsonl`
on disk. A store commit records the last sequence number it holds (`store.json` key
`journal_seq`); the lines after it are the tail that a restart replays (after `kill -9`), and
the files wholly covered by a commit are deleted. A line is
`{"seq": N, "events": [[user_id, item_id, time], ...]}`: the events as applied (filtered, in
time order, the time as the capture path parsed it), so a replay needs no clock and no parsing.
A last line cut short by a crash was never acknowledged: it is ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynrec_cli import run_files
from dynrec_cli.errors import ArtifactError

FOLDER, SEQ_KEY = "journal", "journal_seq"


@dataclass
class Entry:
    seq: int
    events: list[list[Any]]  # [user_id, item_id, time] per event


def covered(meta: dict[str, Any]) -> int:
    """The last journal sequence number the committed store holds (0 before any)."""
    return int(meta.get(SEQ_KEY, 0))


class Journal:
    """Append-only, fsynced event log of one store folder."""

    def __init__(self, store_folder: Path) -> None:
        self.folder = Path(store_folder) / FOLDER
        self._fd: int | None = None

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.jsonl")) if self.folder.is_dir() else []

    def entries(self, after: int = 0) -> list[Entry]:
        """Every complete entry with seq > `after`, in order.

        Raises:
            ArtifactError: a damaged line anywhere but at the very end of the last file.
        """
        files = self.files()
        return [e for i, path in enumerate(files) for e in _read(path, i == len(files) - 1) if e.seq > after]

    def last_seq(self) -> int:
        entries = self.entries()
        return entries[-1].seq if entries else 0

    def append(self, entries: list[Entry]) -> None:
        """Write the entries as lines and fsync them: on return they survive a crash."""
        if self._fd is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{entries[0].seq:012d}.jsonl"
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            _fsync_folder(self.folder)  # the new file's name must survive too
        data = b"".join(json.dumps({"seq": e.seq, "events": e.events}, separators=(",", ":")).encode() + b"\n" for e in entries)
        os.write(self._fd, data)
        os.fdatasync(self._fd)

    def rotate(self) -> None:
        """After a commit that holds every entry: delete the files; the next append starts a new one."""
        self.close()
        for path in self.files():
            path.unlink()
        if self.folder.is_dir():
            _fsync_folder(self.folder)

    def drop_user(self, user_id: str) -> int:
        """Rewrite the files without `user_id`'s events (atomically per file); returns the events removed."""
        self.close()
        removed, files = 0, self.files()
        for i, path in enumerate(files):
            lines = []
            for entry in _read(path, i == len(files) - 1):
                events = [e for e in entry.events if str(e[0]) != user_id]
                removed += len(entry.events) - len(events)
                lines.append(json.dumps({"seq": entry.seq, "events": events}, separators=(",", ":")) + "\n")
            tmp = path.with_name(f".{path.name}.tmp")
            with open(tmp, "w") as handle:
                handle.write("".join(lines))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        if files:
            _fsync_folder(self.folder)
        return removed

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _read(path: Path, last_file: bool) -> list[Entry]:
    """The entries of one file; a line cut short by a crash (the end of the last file) is left out."""
    lines = path.read_bytes().split(b"\n")
    out = []
    for position, line in enumerate(lines):
        if not line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        problem = "not JSON" if record is None else run_files.mismatch(record, run_files.JOURNAL_ENTRY)
        if problem is not None:
            if last_file and position == len(lines) - 1:
                continue
            raise ArtifactError(f"{path}, line {position + 1}: damaged journal entry ({problem}; not the last line, so not a torn write)")
        entry = Entry(record["seq"], record["events"])
        if position < len(lines) - 1:  # a line without its newline was never acknowledged
            out.append(entry)
    return out


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pending(store_folder: Path, meta: dict[str, Any]) -> int:
    """Events acknowledged by `dynrec serve` that the committed store does not hold yet."""
    return sum(len(e.events) for e in Journal(store_folder).entries(covered(meta)))
