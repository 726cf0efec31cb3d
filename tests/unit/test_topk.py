"""Exact top-K: ties go to the lowest index, and chunking never changes the answer."""

from __future__ import annotations

import math

import pytest
import torch

from dynrec_cli.ranking.scoring import topk_for_users
from dynrec_cli.ranking.topk import chunked_topk, exact_topk


def naive_topk(scores: torch.Tensor, k: int) -> list[list[int]]:
    """Reference: Python sort of each row by (score desc, index asc)."""
    rows = []
    for row in scores.tolist():
        order = sorted(range(len(row)), key=lambda i: (-row[i], i))
        rows.append(order[:k])
    return rows


def tied_scores(seed: int, n_rows: int = 6, n_items: int = 23) -> torch.Tensor:
    """Integer-valued scores (many ties) with some -inf entries; one row mostly -inf."""
    gen = torch.Generator().manual_seed(seed)
    scores = torch.randint(0, 4, (n_rows, n_items), generator=gen).float()
    scores[torch.rand(n_rows, n_items, generator=gen) < 0.2] = -math.inf
    scores[0, 3:] = -math.inf  # fewer finite entries than k: -inf must fill, lowest index first
    return scores


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 5, 10])
def test_exact_topk_matches_reference(seed: int, k: int) -> None:
    scores = tied_scores(seed)
    assert exact_topk(scores, k).tolist() == naive_topk(scores, k)


def test_exact_topk_breaks_ties_by_lowest_position() -> None:
    scores = torch.tensor([[1.0, 3.0, 3.0, 2.0, 3.0, 3.0]])
    assert exact_topk(scores, 3).tolist() == [[1, 2, 4]]


@pytest.mark.parametrize("k", [23, 24, 100])
def test_exact_topk_k_at_least_n_returns_every_position_sorted(k: int) -> None:
    scores = tied_scores(0)
    out = exact_topk(scores, k)
    assert out.shape == (6, 23)
    assert out.dtype == torch.long
    assert out.tolist() == naive_topk(scores, 23)


def test_exact_topk_k_zero_is_empty() -> None:
    assert exact_topk(tied_scores(0), 0).shape == (6, 0)


@pytest.mark.parametrize("item_chunk", [1, 2, 3, 5, 7, 10, 22, 23, 24, 1000])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 4, 10, 23, 30])
def test_chunked_topk_equals_full_ranking_for_any_chunk(item_chunk: int, seed: int, k: int) -> None:
    scores = tied_scores(seed)
    n_rows, n_items = scores.shape
    values, indices = chunked_topk(lambda s, e: scores[:, s:e], n_rows, n_items, k, item_chunk)
    expected = naive_topk(scores, k)
    assert indices.tolist() == expected
    assert indices.dtype == torch.long
    assert torch.equal(values, scores.gather(1, indices))
    assert torch.equal(indices, exact_topk(scores, k))


def test_chunked_topk_scores_each_item_once_in_order() -> None:
    scores = tied_scores(1)
    calls: list[tuple[int, int]] = []

    def score_fn(start: int, end: int) -> torch.Tensor:
        calls.append((start, end))
        return scores[:, start:end]

    chunked_topk(score_fn, 6, 23, 5, item_chunk=10)
    assert calls == [(0, 10), (10, 20), (20, 23)]


def test_chunked_topk_rejects_wrong_chunk_shape() -> None:
    with pytest.raises(ValueError, match="expected"):
        chunked_topk(lambda s, e: torch.zeros(2, 1), 2, 10, 3, item_chunk=4)


def test_chunked_topk_rejects_non_positive_chunk() -> None:
    with pytest.raises(ValueError, match="item_chunk"):
        chunked_topk(lambda s, e: torch.zeros(2, e - s), 2, 10, 3, item_chunk=0)


def test_users_topk_excludes_seen_items_whatever_the_item_chunk() -> None:
    gen = torch.Generator().manual_seed(7)
    users, items = torch.randn(6, 4, generator=gen), torch.randn(21, 4, generator=gen)
    rows = torch.tensor([0, 0, 2, 5, 5, 5])
    seen = torch.tensor([3, 20, 1, 7, 8, 9])
    results = [topk_for_users(users, items, 5, chunk, (rows, seen)) for chunk in (21, 100, 4, 1)]
    for values, indices in results[1:]:
        assert torch.equal(indices, results[0][1])
        torch.testing.assert_close(values, results[0][0])  # a chunk's product may round differently
    scores = users @ items.T
    scores[:, 0] = float("-inf")
    scores[rows, seen] = float("-inf")
    assert torch.equal(results[0][1], exact_topk(scores, 5))


def test_only_rows_tied_at_the_kth_value_take_the_exact_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import dynrec_cli.ranking.topk as topk_module

    gen = torch.Generator().manual_seed(3)
    scores = torch.randn(6, 40, generator=gen)
    order = scores[4].argsort(descending=True)
    scores[4, order[3]] = scores[4, order[2]]  # row 4: its 3rd and 4th best are equal (k = 3)
    seen = []
    exact = topk_module._positions_with_ties
    monkeypatch.setattr(topk_module, "_positions_with_ties", lambda s, kth, k: seen.append(s.shape[0]) or exact(s, kth, k))
    assert exact_topk(scores, 3).tolist() == naive_topk(scores, 3)
    assert seen == [1]
