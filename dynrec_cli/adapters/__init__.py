"""Adapters: map frozen text embeddings (n, in_dim) to a model's hidden space (n, out_dim).

A model names its adapter with a small spec, `{"_target_": "dynrec_cli.adapters.moe.MoEAdapter",
"experts": 8}`; the model supplies in_dim and out_dim. Built here rather than by Hydra so that a
checkpoint's JSON can rebuild it, and only classes of this package can be named.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from torch import nn

from dynrec_cli.errors import ConfigError

ALLOWED_PREFIX = "dynrec_cli.adapters."


def build_adapter(spec: dict[str, Any], in_dim: int, out_dim: int) -> nn.Module:
    """Build the adapter a spec names.

    Args:
        spec: `{"_target_": "dynrec_cli.adapters.<module>.<Class>", **kwargs}` (not mutated).
        in_dim, out_dim: sizes given by the model; the spec must not set them.

    Raises:
        ConfigError: the target is outside this package, not an adapter class, or a kwarg is unknown.
    """
    kwargs = dict(spec)
    target = str(kwargs.pop("_target_", ""))
    if not target.startswith(ALLOWED_PREFIX):
        raise ConfigError(f"adapter._target_='{target}' is not a dynrec adapter (must start with {ALLOWED_PREFIX})")
    module_name, _, class_name = target.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name, None)
    except ImportError:
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ConfigError(f"adapter._target_='{target}' is not an adapter class")
    allowed = [name for name in inspect.signature(cls).parameters if name not in ("in_dim", "out_dim")]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ConfigError(f"adapter {class_name}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(allowed)}")
    return cls(in_dim=in_dim, out_dim=out_dim, **kwargs)
