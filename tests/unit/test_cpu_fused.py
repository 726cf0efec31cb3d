"""The fused CPU inference kernels give the plain ops' figures, and step aside where they cannot run."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dynrec_cli.models import cpu_fused
from dynrec_cli.models.attention import CausalBlock, causal_mask

needs_kernels = pytest.mark.skipif(cpu_fused._LINEAR is None, reason="this torch build has no oneDNN linear kernels")


@needs_kernels
def test_fused_linear_gelu_and_residual_match_the_plain_ops() -> None:
    gen = torch.Generator().manual_seed(0)
    x, residual = torch.randn(3, 400, 16, generator=gen), torch.randn(3, 400, 8, generator=gen)
    weight, bias = torch.randn(8, 16, generator=gen), torch.randn(8, generator=gen)
    with torch.inference_mode():
        assert cpu_fused.usable(x)
        torch.testing.assert_close(cpu_fused.linear(x, weight, bias), F.linear(x, weight, bias))
        torch.testing.assert_close(cpu_fused.linear(x, weight, bias, gelu=True), F.gelu(F.linear(x, weight, bias)))
        torch.testing.assert_close(cpu_fused.linear_add(x, residual, weight, bias), residual + F.linear(x, weight, bias))
        # a strided view as the residual (the last block adds onto x[:, -1:])
        wide = torch.randn(1200, 2, 8, generator=gen)
        rows = torch.randn(1200, 2, 16, generator=gen)[:, -1:]
        assert cpu_fused.usable(rows)
        torch.testing.assert_close(cpu_fused.linear_add(rows, wide[:, -1:], weight, bias), wide[:, -1:] + F.linear(rows, weight, bias))


def test_plain_ops_run_where_gradients_autocast_or_other_dtypes_are_in_play() -> None:
    x = torch.randn(cpu_fused.MIN_ROWS, 4)
    assert not cpu_fused.usable(x)  # gradients enabled
    with torch.inference_mode():
        assert cpu_fused.usable(x) == (cpu_fused._LINEAR is not None) and not cpu_fused.usable(x[:-1])  # too few rows
        assert not cpu_fused.usable(x.double())
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert not cpu_fused.usable(x)
    weight = torch.randn(3, 4, requires_grad=True)
    cpu_fused.linear(x, weight, torch.zeros(3), gelu=True).sum().backward()
    assert weight.grad is not None


def test_block_outside_training_gives_the_training_paths_figures_without_dropout() -> None:
    torch.manual_seed(1)
    block = CausalBlock(hidden=16, heads=2, dropout=0.0)
    padded = torch.tensor([[0, 0, 3, 4, 5], [1, 2, 3, 4, 5]]).repeat(300, 1)  # 1,500+ rows: the fused kernels run
    unpadded = padded[1::2]
    for items in (padded, unpadded):
        x, mask = torch.randn(*items.shape, 16), causal_mask(items)
        block.train()
        plain, plain_last = block(x, mask), block(x, mask, last_only=True)
        block.eval()
        with torch.inference_mode():
            assert cpu_fused.usable(x) == (cpu_fused._LINEAR is not None)
            torch.testing.assert_close(block(x, mask), plain.detach(), atol=1e-6, rtol=1e-6)
            torch.testing.assert_close(block(x, mask, last_only=True), plain_last.detach(), atol=1e-6, rtol=1e-6)
