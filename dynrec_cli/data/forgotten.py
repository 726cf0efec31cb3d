"""Tombstones of forgotten users: `DIR/forgotten.json`, read by `prepare` so a retrain leaves them out.

`DELETE /users/{id}` (dynrec serve) and `dynrec forget run_dir=DIR user=ID` record the user here.
The file keeps no id: each user is a salted sha256 (`digest`), with the salt drawn once per run
folder, so the tombstone itself does not name whom it forgets (nor let two runs be linked by it).
`prepare` drops every event of a user whose digest is listed; the file is one of prepare's inputs,
so the next `dynrec train run_dir=DIR` prepares (and so trains) again without them.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from dynrec_cli import artifacts, run_files

TOMBSTONES = "forgotten.json"


def digest(salt: str, user_id: str) -> str:
    """The tombstone of one user id (hex sha256 of salt and id)."""
    return hashlib.sha256(f"{salt}\0{user_id}".encode()).hexdigest()


def load(run_dir: Path) -> tuple[str, set[str]]:
    """(salt, digests) of the run folder's tombstones; a new salt and no digest when there are none."""
    path = Path(run_dir) / TOMBSTONES
    if not path.exists():
        return secrets.token_hex(16), set()
    record = run_files.read_json(path, run_files.TOMBSTONES)
    return record["salt"], set(record["users"])


def record(run_dir: Path, user_id: str) -> str:
    """Add `user_id`'s tombstone (atomically); returns its digest."""
    salt, users = load(run_dir)
    mark = digest(salt, user_id)
    if mark not in users:
        artifacts.write_json(Path(run_dir) / TOMBSTONES, {"salt": salt, "users": sorted(users | {mark})})
    return mark


def is_forgotten(run_dir: Path, ids: pd.Series) -> np.ndarray:
    """(n,) bool: which of `ids` (str or categorical) have a tombstone in `run_dir`."""
    salt, users = load(run_dir)
    if not users:
        return np.zeros(len(ids), bool)
    values = pd.Series(ids).astype("category")  # one hash per distinct id, not per event
    hit = np.array([digest(salt, str(u)) in users for u in values.cat.categories], dtype=bool)
    return hit[values.cat.codes.to_numpy()] if len(hit) else np.zeros(len(ids), bool)


def inputs(run_dir: Path) -> dict[str, str]:
    """prepare's input entry for the tombstones (none without a file)."""
    path = Path(run_dir) / TOMBSTONES
    return {TOMBSTONES: artifacts.file_hash(path)} if path.exists() else {}
