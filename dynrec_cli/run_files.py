"""Typed readers of what a run folder holds: a damaged file is one line naming it, never a traceback.

A run folder may come from elsewhere (a CI artifact, a colleague's run), and any file in it may
be cut short, replaced or edited by hand. Every JSON document dynrec reads back is checked
against its shape (below: the kind of each value, the keys an object must have), every
safetensors file for the tensors it must hold, every Parquet table for its columns, before any
value is used; what does not fit is an ArtifactError naming the file and the place in it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from dynrec_cli.errors import ArtifactError


@dataclass(frozen=True)
class ListOf:
    """A JSON array whose items all have `item`'s shape."""

    item: Shape


@dataclass(frozen=True)
class MapOf:
    """A JSON object with any keys, whose values all have `value`'s shape."""

    value: Shape


@dataclass(frozen=True)
class Obj:
    """A JSON object with at least the `required` keys (and maybe the `optional` ones), each of its shape."""

    required: Mapping[str, Shape]
    optional: Mapping[str, Shape] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    """A string matching `pattern` (e.g. a file name the reader will open)."""

    pattern: str
    meaning: str


@dataclass(frozen=True)
class Finite:
    """A JSON number that is finite: Python's json reads NaN and Infinity, which no figure may be
    (a NaN is never below a --fail-under floor, so a gate on it would pass whatever happened)."""


Shape = Union[type, tuple, ListOf, MapOf, Obj, Text, Finite]
_KINDS = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number", bool: "true or false",
          type(None): "null"}
HASHES = MapOf(str)

COUNT_REMOVED = Obj({"by": str, "users_removed": int, "items_removed": int, "events_removed": int})
# the figures a stage's manifest holds that dynrec reads back (reports, checks, gates), by stage
FIGURES: dict[str, Shape] = {
    "prepare": Obj({"users": int, "items": int, "events": int, "density": float}, {
        "events_per_split": MapOf(int), "sequence_length": MapOf(float), "filtered": MapOf(COUNT_REMOVED),
        "duplicates_removed": int, "items_without_text": int, "cold_test_targets": int}),
    "pretrain": Obj({}, {"model": str, "commit": str, "identity": str, "encoding": Obj({"items": int})}),
    "finetune": Obj({}, {"epochs_run": int, "best_epoch": (int, type(None)), "stop_reason": str}),
    "evaluate": MapOf(Finite()),
}
# the resolved config sections a stage ran with (compare reads eval's protocol, prepare's data format)
STAGE_CONFIG = Obj({}, {"eval": dict, "data": dict})
MANIFEST = Obj({"stage": str, "artifact_version": int, "config_hash": str, "inputs": dict, "outputs": HASHES, "figures": dict},
               {"config": STAGE_CONFIG})
MODEL_SPEC = Obj({"target": str, "kwargs": dict})
OVERRIDES = ListOf(str)
METRICS = MapOf(Finite())
HISTORY = ListOf(dict)
FACTS = Obj({"has_time": bool}, {"category_separators": (MapOf(str), type(None))})
STORE = Obj({
    "store_version": int, "generation": int, "run": MapOf(str), "files": HASHES, "captures": MapOf(dict),
    "in_progress": (str, type(None)), "captures_run": int,
    "segments": ListOf(Text(r"events/seg-\d+\.parquet", "events/seg-<N>.parquet")),
}, {"journal_seq": int})
JOURNAL_ENTRY = Obj({"seq": int, "events": ListOf(list)})  # a line of <store>/journal/*.jsonl
TOMBSTONES = Obj({"salt": str, "users": ListOf(str)})  # DIR/forgotten.json
JOB_CONFIG = Obj({"trainer": Obj({"objective": str})}, {"eval": dict})
RESUME_STATE = Obj({"epoch": int, "since_best": int, "has_best": bool, "result": dict, "optim_plain": dict,
                    "param_groups": list, "python_rng": list, "numpy_rng": list})


def mismatch(value: Any, shape: Shape, where: str = "") -> str | None:
    """Where and how `value` differs from `shape` (e.g. "files.a: a string, not a list"), or None."""
    at = f"{where}: " if where else ""
    if isinstance(shape, Obj):
        if not isinstance(value, dict):
            return f"{at}{_kind(dict)}, not {_kind_of(value)}"
        missing = [key for key in shape.required if key not in value]
        if missing:
            return f"{at}no key {', '.join(repr(k) for k in missing)}"
        for key, inner in [*shape.required.items(), *((k, s) for k, s in shape.optional.items() if k in value)]:
            if (problem := mismatch(value[key], inner, _join(where, key))) is not None:
                return problem
        return None
    if isinstance(shape, (ListOf, MapOf)):
        container = list if isinstance(shape, ListOf) else dict
        if not isinstance(value, container):
            return f"{at}{_kind(container)}, not {_kind_of(value)}"
        inner = shape.item if isinstance(shape, ListOf) else shape.value
        pairs = enumerate(value) if isinstance(value, list) else value.items()
        return next((p for key, item in pairs if (p := mismatch(item, inner, _join(where, key))) is not None), None)
    if isinstance(shape, Text):
        if not (isinstance(value, str) and re.fullmatch(shape.pattern, value)):
            return f"{at}{value!r:.60} is not {shape.meaning}"
        return None
    if isinstance(shape, Finite):
        if _is(value, float) and math.isfinite(value):
            return None
        return f"{at}a finite number, not {value!r:.40}" if _is(value, float) else f"{at}a number, not {_kind_of(value)}"
    if isinstance(shape, tuple):  # alternatives: the first that fits, or the kinds that would
        problems = [mismatch(value, option, where) for option in shape]
        if None in problems:
            return None
        same_kind = [p for option, p in zip(shape, problems) if not isinstance(option, type) and _fits_kind(value, option)]
        return same_kind[0] if same_kind else f"{at}{' or '.join(_describe(o) for o in shape)}, not {_kind_of(value)}"
    if _is(value, shape):
        return None
    return f"{at}{_kind(shape)}, not {_kind_of(value)}"


def read_json(path: Path, shape: Shape | None = None) -> Any:
    """The JSON document at `path`, checked against `shape`; ArtifactError naming the file otherwise."""
    try:
        value = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: not valid JSON ({exc})") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot be read ({exc.strerror})") from None
    if shape is not None and (problem := mismatch(value, shape)) is not None:
        raise ArtifactError(f"{path}: not a dynrec {Path(path).name} ({problem})")
    return value


def read_tensors(path: Path, names: tuple[str, ...] = ()) -> dict[str, Any]:
    """The tensors of a safetensors file, which must hold `names`; ArtifactError naming the file otherwise."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ArtifactError(f"{path}: not a safetensors file dynrec can read ({_first_line(exc)})") from None
    missing = [name for name in names if name not in tensors]
    if missing:
        raise ArtifactError(f"{path}: no tensor {', '.join(missing)} (damaged, or not written by dynrec)")
    return tensors


def read_table(path: Path, columns: tuple[str, ...] = ()) -> Any:
    """The Parquet table at `path`, which must have `columns`; ArtifactError naming the file otherwise."""
    import pandas as pd
    import pyarrow as pa

    try:
        table = pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: not a Parquet table dynrec can read ({_first_line(exc)})") from None
    missing = [name for name in columns if name not in table.columns]
    if missing:
        raise ArtifactError(f"{path}: no column {', '.join(missing)} (damaged, or not written by dynrec)")
    return table


def check_rows(path: Path, tensors: Mapping[str, Any], rows: Mapping[str, int]) -> None:
    """Each tensor named in `rows` is 2-D with that many rows, all of one width (the vectors' d).
    Rows counted elsewhere (the prepared users and items, a table's ids) index these tensors: a
    tensor cut short or padded would crash a lookup or pair a user with another's vector."""
    widths = set()
    for name, count in rows.items():
        shape = tuple(tensors[name].shape)
        if len(shape) != 2 or shape[0] != count:
            raise ArtifactError(f"{path}: tensor {name} has shape {list(shape)}, expected {count} rows "
                                "(damaged, or not written for this run)")
        widths.add(shape[1])
    if len(widths) > 1:
        raise ArtifactError(f"{path}: tensors {', '.join(rows)} differ in width ({sorted(widths)}) (damaged, or not written by dynrec)")


def check_index(path: Path, table: Any, index: str, ids: str, start: int) -> None:
    """`table[index]` numbers its rows start, start + 1, ... each once, and `table[ids]` holds each
    id once: the index is a position in the tensors, and two rows of one id would split its events."""
    import numpy as np

    positions = table[index].to_numpy()
    wrong = np.sort(positions) != np.arange(start, start + len(table))
    if wrong.any():
        raise ArtifactError(f"{path}, column '{index}': not the numbers {start} to {start + len(table) - 1} each once "
                            "(damaged, or not written by dynrec)")
    repeated = table[ids].astype(str).duplicated().to_numpy()
    if repeated.any():
        row = int(np.argmax(repeated))
        raise ArtifactError(f"{path}, row {row + 1}, column '{ids}': id {table[ids].iloc[row]!r} appears twice "
                            "(damaged, or not written by dynrec)")


def check_finite(path: Path, table: Any, columns: list[str]) -> None:
    """Every value of `columns` (numbers) is finite: a NaN pairs with nothing and passes every gate.
    ArtifactError naming the file, the row (1-based) and the column otherwise."""
    import numpy as np

    for column in columns:
        bad = ~np.isfinite(table[column].to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            row = int(np.argmax(bad))
            raise ArtifactError(f"{path}, row {row + 1}, column '{column}': {table[column].iloc[row]} is not a finite number "
                                "(damaged, or not written by dynrec)")


def _is(value: Any, kind: type) -> bool:
    if isinstance(value, bool):  # JSON true is not a number
        return kind is bool
    return isinstance(value, (int, float) if kind is float else kind)  # an integer is a number


def _fits_kind(value: Any, shape: Shape) -> bool:
    """Whether `value` is the container or string `shape` wants (its contents aside)."""
    wanted = {Obj: dict, MapOf: dict, ListOf: list, Text: str}[type(shape)]
    return isinstance(value, wanted)


def _describe(shape: Shape) -> str:
    if isinstance(shape, type):
        return _kind(shape)
    return {Obj: "an object", MapOf: "an object", ListOf: "a list", Text: "a string", Finite: "a number"}[type(shape)]


def _kind(kind: type) -> str:
    return _KINDS.get(kind, kind.__name__)


def _kind_of(value: Any) -> str:
    return next((name for kind, name in _KINDS.items() if type(value) is kind), type(value).__name__)


def _join(where: str, key: str | int) -> str:
    """A place in the document: object keys joined with dots, list items as [i]."""
    if isinstance(key, int):
        return f"{where}[{key}]" if where else f"item {key}"
    return f"{where}.{key}" if where else key


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
