"""Device and precision come from here, and nowhere else."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from dynrec_cli.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_device(name: str) -> torch.device:
    """`auto` = CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"trainer.device={name}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"trainer.device={name}: no CUDA device here (use trainer.device=auto or cpu)")
    return device


def resolve_precision(precision: str, device: torch.device, key: str = "trainer.precision") -> torch.dtype | None:
    """The autocast dtype, or None for fp32. `auto` = bf16 on CUDA, fp32 on CPU."""
    if precision not in PRECISIONS:
        raise ConfigError(f"{key}={precision}: choose one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def resolve_encoding_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for encoding text (no gradients), or None for fp32.

    `auto` = bf16 on CUDA, and on CPUs with AMX bf16 tiles (Sapphire Rapids and later), where bf16
    encodes ~2.5× faster than fp32 with vectors at cosine >= 0.9999 to fp32 (docs/performance.md);
    fp32 on other CPUs, where bf16 is emulated and slower.
    """
    if precision == "auto" and device.type == "cpu":
        return torch.bfloat16 if torch.cpu.get_capabilities().get("amx_bf16") else None
    return resolve_precision(precision, device, key="encoder.precision")


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield
