"""Ranking metrics against values worked out by hand on tiny examples."""

from __future__ import annotations

import math

import pytest
import torch

from dynrec_cli.evaluation.metrics import (
    MetricFn,
    compute_user_metrics,
    count_targets,
    hit_at_k,
    hits_matrix,
    item_coverage,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)

NAMES = ["ndcg", "recall", "hit", "mrr", "map", "precision"]


def metrics_at(topk: list[list[int]], targets: list[list[int]], k: int) -> dict[str, float]:
    """Metrics at k for a single user, as plain floats."""
    out = compute_user_metrics(torch.tensor(topk), torch.tensor(targets), [k])
    return {key.split("@")[0]: value.item() for key, value in out.items()}


def test_hits_matrix_ignores_padding() -> None:
    topk = torch.tensor([[5, 7, 9], [1, 2, 3]])
    targets = torch.tensor([[9, -1], [2, 3]])
    assert hits_matrix(topk, targets).tolist() == [[False, False, True], [False, True, True]]
    assert count_targets(targets).tolist() == [1, 2]


def test_padding_never_matches_a_negative_recommendation() -> None:
    assert hits_matrix(torch.tensor([[-1, 4]]), torch.tensor([[4, -1]])).tolist() == [[False, True]]


def test_single_target_at_rank_three() -> None:
    m = metrics_at([[10, 11, 12, 13, 14]], [[12]], k=5)
    assert m["ndcg"] == pytest.approx(0.5)  # 1 / log2(3 + 1)
    assert m["mrr"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(1.0)
    assert m["hit"] == pytest.approx(1.0)
    assert m["map"] == pytest.approx(1 / 3)  # precision@3 = 1/3, one ideal hit
    assert m["precision"] == pytest.approx(0.2)


def test_single_target_beyond_cutoff_is_a_miss() -> None:
    m = metrics_at([[10, 11, 12, 13, 14]], [[12]], k=2)
    assert m == {name: 0.0 for name in NAMES}


def test_two_targets_hit_at_ranks_one_and_three() -> None:
    m = metrics_at([[1, 2, 3, 4, 5]], [[3, 1]], k=5)
    assert m["recall"] == pytest.approx(1.0)
    assert m["ndcg"] == pytest.approx((1 + 0.5) / (1 + 1 / math.log2(3)))
    assert m["map"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert m["precision"] == pytest.approx(0.4)
    assert m["mrr"] == pytest.approx(1.0)
    assert m["hit"] == pytest.approx(1.0)


def test_two_targets_one_found_within_cutoff() -> None:
    # Targets 3 and 99; only 3 is recommended, at rank 3.
    m = metrics_at([[1, 2, 3, 4, 5]], [[3, 99]], k=5)
    assert m["recall"] == pytest.approx(0.5)
    assert m["ndcg"] == pytest.approx(0.5 / (1 + 1 / math.log2(3)))
    assert m["map"] == pytest.approx((1 / 3) / 2)
    assert m["mrr"] == pytest.approx(1 / 3)


def test_more_targets_than_cutoff_caps_ideal_at_k() -> None:
    # Three targets, k = 2, both slots hit: ideal is 2 hits, so ndcg and map are 1.
    m = metrics_at([[7, 8, 9]], [[7, 8, 9]], k=2)
    assert m["ndcg"] == pytest.approx(1.0)
    assert m["map"] == pytest.approx(1.0)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["precision"] == pytest.approx(1.0)


def test_miss_gives_zeros() -> None:
    m = metrics_at([[1, 2, 3]], [[42]], k=3)
    assert m == {name: 0.0 for name in NAMES}


def test_user_without_targets_scores_zero() -> None:
    m = metrics_at([[1, 2, 3]], [[-1, -1]], k=3)
    assert m == {name: 0.0 for name in NAMES}


def test_metrics_are_per_user_and_keyed_by_cutoff() -> None:
    topk = torch.tensor([[1, 2, 3], [4, 5, 6]])
    targets = torch.tensor([[2], [9]])
    out = compute_user_metrics(topk, targets, [1, 3])
    assert set(out) == {f"{name}@{k}" for name in NAMES for k in (1, 3)}
    assert out["hit@1"].tolist() == [0.0, 0.0]
    assert out["hit@3"].tolist() == [1.0, 0.0]
    assert out["ndcg@3"].tolist() == pytest.approx([1 / math.log2(3), 0.0])
    assert all(v.shape == (2,) and v.dtype == torch.float32 for v in out.values())


@pytest.mark.parametrize(
    "fn", [recall_at_k, hit_at_k, ndcg_at_k, mrr_at_k, map_at_k, precision_at_k]
)
def test_cutoff_wider_than_topk_is_rejected(fn: MetricFn) -> None:
    hits = torch.zeros(2, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match="cutoff"):
        fn(hits, torch.ones(2, dtype=torch.long), 4)


def test_item_coverage() -> None:
    topk = torch.tensor([[0, 1, 2], [1, 3, 4], [0, 1, 5]])  # 0 = padding, an empty slot, not an item
    # top-2 union: {1, 3} -> 2 of 10 items.
    assert item_coverage(topk, k=2, n_items=10) == pytest.approx(0.2)
    # top-3 union: {1, 2, 3, 4, 5} -> 5 of 10 items.
    assert item_coverage(topk, k=3, n_items=10) == pytest.approx(0.5)
