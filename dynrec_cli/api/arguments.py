"""The Python API's arguments, checked as the CLI's parser checks its own: a value of the wrong
kind is a ConfigError (one line, exit code 2), never an AttributeError from deep inside, and
never a folder named after a list's text."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def overrides(values: Sequence[Any]) -> list[str]:
    """The overrides as given, each a `key=value` string."""
    from dynrec_cli.errors import ConfigError

    for position, value in enumerate(values, 1):
        if not isinstance(value, str):
            raise ConfigError(f"override {position}: {value!r:.60} is {_kind(value)}, not a 'key=value' string "
                              "(e.g. 'model.hidden=64')")
    return list(values)


def folder(value: Any, name: str, optional: bool = True) -> Path | None:
    """A folder argument (run_dir, config_dir, baseline, a Run's path) as a Path; None stays None
    where the argument is `optional`."""
    from dynrec_cli.errors import ConfigError

    if value is None and optional:
        return None
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        shown = "an empty string" if isinstance(value, str) else _kind(value)
        raise ConfigError(f"{name}={value!r:.60}: a folder must be a str or os.PathLike path, not {shown}")
    return Path(value)


def numbers(values: Any, name: str, example: str) -> dict[str, Any]:
    """A {metric key: number or text} mapping (`fail_under`, `max_drop`), keys as str."""
    from dynrec_cli.errors import ConfigError

    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"{name}: a mapping {{metric key: value}}, e.g. {example}, not {_kind(values)}")
    for key, value in values.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{name} {key!r:.60}: {value!r:.60}: keys are metric keys and values numbers, e.g. {example}")
    return {key: value for key, value in values.items()}


def count(value: Any, name: str) -> int:
    """An integer argument (a list length); ConfigError for text, floats with a fraction, booleans."""
    from dynrec_cli.errors import ConfigError

    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}={value!r:.60}: an integer, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
