"""The paired bootstrap against the exact bootstrap distribution, enumerated by hand."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from dynrec_cli.evaluation.significance import paired_bootstrap

A = [1.0, 1.0, 0.0, 2.0, 0.0]
DIFF = [2, 0, 1, 0, 3]  # B − A per user


def exact_bootstrap(diffs: list[int]) -> tuple[Fraction, Fraction, float]:
    """The 2.5% and 97.5% quantiles and the two-sided p of the mean of a resample, over all n^n resamples."""
    n = len(diffs)
    means = sorted(Fraction(sum(diffs[i] for i in draw), n) for draw in itertools.product(range(n), repeat=n))
    total = len(means)

    def quantile(q: float) -> Fraction:  # smallest value whose cumulative share reaches q
        return next(m for i, m in enumerate(means, start=1) if i / total >= q)

    below = sum(m <= 0 for m in means) / total
    above = sum(m >= 0 for m in means) / total
    return quantile(0.025), quantile(0.975), min(1.0, 2 * min(below, above))


def test_interval_and_p_match_the_exact_bootstrap() -> None:
    low, high, p = exact_bootstrap(DIFF)  # (2/5)^5 of the resamples are all zeros: p = 2 * 0.01024
    a = np.array(A)[:, None]
    b = a + np.array(DIFF, dtype=float)[:, None]
    result = paired_bootstrap(a, b, resamples=20000, confidence=0.95, seed=0)
    assert result.diff[0] == pytest.approx(sum(DIFF) / len(DIFF))
    assert result.mean_a[0] == pytest.approx(sum(A) / len(A))
    assert result.low[0] == pytest.approx(float(low))
    assert result.high[0] == pytest.approx(float(high))
    assert result.p_value[0] == pytest.approx(p, abs=0.004)
    assert result.n == len(A)


def test_identical_runs_and_a_constant_gain() -> None:
    a = np.array([[0.1, 1.0], [0.4, 0.0], [0.2, 1.0]])
    same = paired_bootstrap(a, a.copy(), resamples=500, confidence=0.9, seed=1)
    assert same.low.tolist() == [0.0, 0.0] and same.high.tolist() == [0.0, 0.0] and same.p_value.tolist() == [1.0, 1.0]
    gain = paired_bootstrap(a, a + 0.5, resamples=500, confidence=0.9, seed=1)
    assert gain.low == pytest.approx([0.5, 0.5]) and gain.p_value.tolist() == [0.0, 0.0]


def test_same_seed_same_interval() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.random((50, 2)), rng.random((50, 2))
    first = paired_bootstrap(a, b, 300, 0.95, seed=7)
    assert np.array_equal(first.low, paired_bootstrap(a, b, 300, 0.95, seed=7).low)
    assert not np.array_equal(first.low, paired_bootstrap(a, b, 300, 0.95, seed=8).low)
