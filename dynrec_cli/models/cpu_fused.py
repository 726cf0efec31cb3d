"""oneDNN linear layers with bias, GELU and the residual add fused, for CPU inference.

These are the kernels torch.compile's CPU backend emits for the same pattern (`mkldnn._linear_pointwise`),
called directly: the bias is added inside the matrix product instead of being copied into the output
first, and the activation or residual add runs on the product while it is still in cache. They give
the same figures as `F.linear` (the unit tests check it) and are used only where no gradient is
needed, autocast is off, the tensors are fp32 on the CPU and there are at least MIN_ROWS rows (a
single user's window, as capture encodes it, runs faster through the plain ops: 0.69 against 1.07 ms);
anywhere else the plain ops run.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

MIN_ROWS = 1024  # measured crossover: 16 windows of 50 (800 rows) plain is faster, 32 (1,600) fused
_LINEAR = getattr(torch.ops.mkldnn, "_linear_pointwise", None) if torch.backends.mkldnn.is_available() else None


def usable(x: Tensor) -> bool:
    """Whether the fused kernels can stand in for the plain ops on `x`."""
    return (
        _LINEAR is not None and x.device.type == "cpu" and x.dtype == torch.float32 and x.numel() >= MIN_ROWS * x.shape[-1]
        and not torch.is_grad_enabled() and not torch.is_autocast_enabled("cpu")
    )  # fmt: skip


def linear(x: Tensor, weight: Tensor, bias: Tensor, gelu: bool = False) -> Tensor:
    """F.linear(x, weight, bias), followed by the exact GELU when `gelu`; x: (..., in)."""
    if not usable(x):
        out = F.linear(x, weight, bias)
        return F.gelu(out) if gelu else out
    return _LINEAR(x, weight, bias, "gelu" if gelu else "none", [], "none" if gelu else "")


def linear_add(x: Tensor, residual: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """residual + F.linear(x, weight, bias); residual has the output's shape."""
    if not usable(x):
        return residual + F.linear(x, weight, bias)
    return _LINEAR.binary(x, residual, weight, bias, "add")
