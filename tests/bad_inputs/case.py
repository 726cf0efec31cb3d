"""What a bad-input case is, and the small good inputs that cases spoil.

Each file in `cases/` defines `CASE = BadInput(...)`: the files to write into a fresh folder,
the command to run (`{dir}` = that folder, `{run}` = its run folder), and the patterns the one
error line must match (the file and the place: row/column or config key). Cases with
`needs_run=True` start from a copy of a small trained run (`base`: the fixture that makes it)
and `damage` it first. A case with `limits` (resource limits, e.g. a file-size limit) or `env`
runs the CLI in a subprocess. A payload a case plants must, if it ever ran, create `{dir}/pwned`
(MARKER), which the runner checks is absent.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# 8 users × 8 events over 12 items: small enough to train in seconds.
HEADER = "user_id,item_id,timestamp\n"
ROWS = [f"u{u},i{(u * 7 + k) % 12},{1_000_000 + 60 * k}" for u in range(8) for k in range(8)]
LOG = HEADER + "".join(row + "\n" for row in ROWS)
CATALOGUE = "item_id,title\n" + "".join(f"i{i},Item {i}\n" for i in range(12))
# k-core off so every spoiled row still reaches the reader's checks
PREPARE_ARGS = ["data.min_user_interactions=3", "data.min_item_interactions=1"]
MARKER = "pwned"  # what a planted payload would create, had it run
TINY_MODEL = ["model=sasrec", "model.hidden=8", "model.layers=1", "model.heads=1", "model.max_len=8",
              "trainer=tiny", "trainer.batch_size=16", "eval.ks=[5,10]"]


@dataclass(frozen=True)
class BadInput:
    """One bad input and the error it must produce."""

    args: list[str]
    expect: list[str]
    files: dict[str, bytes | str | Callable[[Path], None]] = field(default_factory=dict)
    needs_run: bool = False
    damage: Callable[[Path], None] | None = None
    base: str = "trained_run"  # the fixture whose run a needs_run case copies
    limits: dict[str, int] = field(default_factory=dict)  # resource name (RLIMIT_FSIZE, RLIMIT_AS) -> bytes
    env: dict[str, str] = field(default_factory=dict)  # extra environment ({dir} allowed), e.g. PYTHONPATH
    absent: list[str] = field(default_factory=list)  # text the output must not hold (a payload's arguments)


def csv_case(log: str | bytes, expect: list[str], *extra: str, name: str = "log.csv") -> BadInput:
    """`dynrec prepare` on a spoiled log given as text or bytes."""
    return BadInput(
        args=["prepare", "run_dir={run}", "data=csv", f"data.interactions={{dir}}/{name}", *PREPARE_ARGS, *extra],
        expect=expect,
        files={name: log},
    )


def parquet_bytes(columns: dict[str, list]) -> bytes:
    """A Parquet file's bytes holding `columns` (types inferred by pyarrow)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def good_columns() -> dict[str, list]:
    """The good log as Parquet columns (time as int64)."""
    split = [row.split(",") for row in ROWS]
    return {"user_id": [r[0] for r in split], "item_id": [r[1] for r in split], "timestamp": [int(r[2]) for r in split]}


def rows_with(changes: dict[int, str]) -> str:
    """The good log with data rows replaced (0-based row -> new line)."""
    rows = [changes.get(i, row) for i, row in enumerate(ROWS)]
    return HEADER + "".join(row + "\n" for row in rows)


def run_case(args: list[str], expect: list[str], damage: Callable[[Path], None], **options) -> BadInput:
    """A command on a copy of the trained run, damaged first."""
    return BadInput(args=args, expect=expect, needs_run=True, damage=damage, **options)


def train_args(*extra: str) -> list[str]:
    """`dynrec train` of the tiny model on the good log written as {dir}/log.csv (see `good_files`)."""
    return ["train", "run_dir={run}", "data=csv", "data.interactions={dir}/log.csv", *PREPARE_ARGS, *TINY_MODEL, *extra]


def good_files() -> dict[str, bytes | str | Callable[[Path], None]]:
    return {"log.csv": LOG}


class _Payload:
    """Unpickling this runs `touch MARKER`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - pickle's protocol
        return os.system, (f"touch {self.marker}",)


def pickle_payload(marker: Path) -> bytes:
    """A pickle whose loading creates `marker`."""
    return pickle.dumps(_Payload(marker))


def plant_pickle(path: Path) -> None:
    """A pickle at `path` whose loading creates MARKER beside it (`files={"payload.pkl": plant_pickle}`)."""
    path.write_bytes(pickle_payload(path.parent / MARKER))


# a `_target_` that runs a planted pickle's payload (pandas is installed with dynrec; Hydra's own
# best-effort blocklist stops os.system, not this)
READ_PAYLOAD = "{_target_:pandas.read_pickle,filepath_or_buffer:{dir}/payload.pkl}"


def import_payload(folder: Path, module: str) -> None:
    """A module `module` in `folder` whose import creates folder/MARKER (the case puts folder on PYTHONPATH)."""
    (folder / module).mkdir(parents=True)
    (folder / module / "__init__.py").write_text(f"open({str(folder / MARKER)!r}, 'w').close()\n")


def rehash(stage_dir: Path, name: str) -> None:
    """Make the stage manifest agree with a changed output, so only the file's content is wrong."""
    import json

    from dynrec_cli.artifacts import file_hash

    manifest_path = stage_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["outputs"][name] = file_hash(stage_dir / name)
    manifest_path.write_text(json.dumps(manifest))


def edit_model_spec(run: Path, change: Callable[[dict], None]) -> None:
    """Apply `change` to the run's finetune/model.json and rehash it, so only its content is wrong."""
    import json

    spec_path = run / "finetune" / "model.json"
    spec = json.loads(spec_path.read_text())
    change(spec)
    spec_path.write_text(json.dumps(spec))
    rehash(run / "finetune", "model.json")


def edit_json(path: Path, change: Callable[[Any], None]) -> None:
    """Apply `change` to the JSON document at `path` (NaN written as NaN, as Python's json does)."""
    import json

    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def add_recorded(run: Path, *overrides: str) -> None:
    """Append overrides to the run's overrides.json (a hand edit, or a tampered artifact)."""
    edit_json(run / "overrides.json", lambda recorded: recorded.extend(overrides))


def edit_tensors(path: Path, change: Callable[[dict], None]) -> None:
    """Rewrite the safetensors file at `path` after `change` edited its {name: tensor} dict."""
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path))
    change(tensors)
    save_file(tensors, str(path))


def store_generation(run: Path) -> Path:
    """The folder of the run's current interest-store generation."""
    import json

    meta = json.loads((run / "store" / "store.json").read_text())
    return run / "store" / f"gen-{meta['generation']:06d}"


def rehash_store(run: Path) -> None:
    """Make store.json agree with changed generation files, so only their content is wrong."""
    from dynrec_cli.artifacts import file_hash

    folder = store_generation(run)
    edit_json(run / "store" / "store.json", lambda meta: meta.update(files={name: file_hash(folder / name) for name in meta["files"]}))
