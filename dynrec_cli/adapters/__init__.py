"""Adapters: map frozen text embeddings (n, in_dim) to a model's hidden space (n, out_dim).

A model names its adapter with a small spec, `{"_target_": "dynrec_cli.adapters.moe.MoEAdapter",
"experts": 8}`; the model supplies in_dim and out_dim. Built here rather than by Hydra so that a
checkpoint's JSON can rebuild it; only the classes of `targets.ADAPTERS` can be named.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from dynrec_cli.errors import ConfigError


def build_adapter(spec: dict[str, Any], in_dim: int, out_dim: int) -> nn.Module:
    """Build the adapter a spec names.

    Args:
        spec: `{"_target_": "dynrec_cli.adapters.<module>.<Class>", **kwargs}` (not mutated).
        in_dim, out_dim: sizes given by the model; the spec must not set them.

    Raises:
        ConfigError: the target is not an allowed adapter class, or a kwarg is unknown.
    """
    from dynrec_cli import targets

    kwargs = dict(spec)
    cls = targets.resolve(kwargs.pop("_target_", None), targets.ADAPTERS, "adapter._target_")
    class_name = cls.__name__
    allowed = [name for name in inspect.signature(cls).parameters if name not in ("in_dim", "out_dim")]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ConfigError(f"adapter {class_name}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(allowed)}")
    return cls(in_dim=in_dim, out_dim=out_dim, **kwargs)
