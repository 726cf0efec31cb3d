"""Time features for sequence models: time-gap buckets and a causal, recency-weighted pool.

Both are pure tensor functions over left-padded sequences (item 0 = padding) so they can be
unit-tested without a model. `times` are int64 unix nanoseconds (`dynrec_cli.data.clock`; a
data set without timestamps stores each position as that many seconds, so "seconds" below then
reads "steps"). Gaps are taken in integers, then turned into seconds: sub-second gaps count.
"""

from __future__ import annotations

import torch
from torch import Tensor

from dynrec_cli.data.clock import NS_PER_S


def time_gap_buckets(items: Tensor, times: Tensor, n_buckets: int) -> Tensor:
    """Bucket of the gap since the previous event: floor(log2(1 + gap in seconds)), capped.

    The first real event and padding get gap 0 (bucket 0); negative gaps (unsorted ties) count
    as 0. Log buckets: 1 s and 2 s differ, 3 days and 3 days + 1 s do not.

    Args:
        items: (B, L) long, left-padded with 0.
        times: (B, L) int64 nanoseconds, non-decreasing over the real events.
        n_buckets: buckets 0..n_buckets-1; gaps of 2**(n_buckets-1) - 1 seconds and longer share the last.

    Returns:
        (B, L) long in [0, n_buckets).
    """
    real = items > 0
    gaps = torch.zeros_like(times)
    gaps[:, 1:] = times[:, 1:] - times[:, :-1]
    has_previous = torch.zeros_like(real)
    has_previous[:, 1:] = real[:, 1:] & real[:, :-1]
    gaps = torch.where(has_previous, gaps.clamp_min(0), torch.zeros_like(gaps))
    # float64: a whole-second gap (n * 1e9 = n * 2**9 * 1953125 ns) converts and divides back to n
    # exactly, so bucket edges fall where they did on whole seconds
    buckets = torch.log2(1.0 + gaps.double() / NS_PER_S).floor().long()
    return buckets.clamp_(0, n_buckets - 1)


def recency_weights(
    items: Tensor, times: Tensor, recent: int, lambda_pos: Tensor, lambda_time: Tensor, last_only: bool = False
) -> Tensor:
    """Banded causal pooling weights: position t pools the real items among positions t-recent+1..t.

    weight[b, t, s] ∝ exp(-lambda_pos * (t - s) - lambda_time * log1p(seconds between s and t)),
    normalised over the band; later positions (s > t), positions older than `recent` and padding
    get weight 0. A padding query pools only itself (whose item view is zero), which keeps every
    row a finite softmax.

    Args:
        items: (B, L) long, left-padded with 0; times: (B, L) int64 nanoseconds.
        recent: width of the band (>= 1).
        lambda_pos, lambda_time: scalar tensors >= 0 (learned, through softplus).
        last_only: only the newest query position t = L-1 (scoring and capture need no other).

    Returns:
        (B, L, L) float, or (B, 1, L) with last_only; each row sums to 1. Cost: B * L * L memory,
        like attention (B * L with last_only).
    """
    length = items.shape[1]
    steps = torch.arange(length, device=items.device)
    queries = steps[-1:] if last_only else steps
    age = queries[:, None] - steps[None, :]  # (Q, L): t - s
    band = (age >= 0) & (age < recent)
    valid = band[None] & (items > 0)[:, None, :]
    valid = valid | (age == 0)[None]
    query_times = times[:, -1:] if last_only else times
    gaps = (query_times[:, :, None] - times[:, None, :]).clamp_min(0)  # (B, Q, L) nanoseconds
    seconds = (gaps.double() / NS_PER_S).float()
    logits = -lambda_pos * age.clamp_min(0).float()[None] - lambda_time * torch.log1p(seconds)
    return torch.softmax(logits.masked_fill(~valid, float("-inf")), dim=-1)
