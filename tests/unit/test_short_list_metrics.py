"""Short top-K lists: excluded, filtered and padding items never fill a list, and the metrics count
only the items a list holds (0 marks an empty slot)."""

from __future__ import annotations

import math

import pytest
import torch

from dynrec_cli.evaluation.beyond import (
    gini_at_k,
    intra_list_diversity,
    mean_popularity_rank,
    novelty,
    popularity_ranks,
    self_information,
)
from dynrec_cli.evaluation.metrics import compute_user_metrics, item_coverage, precision_at_k
from dynrec_cli.ranking.reranker import Reranker
from dynrec_cli.ranking.scoring import topk_for_users

# items 1..4 (row 0 = padding): 1 and 2 point the same way, 3 is orthogonal to them, 4 opposite to 1
VECS = torch.tensor([[5.0, 5.0], [1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])


@pytest.mark.parametrize("item_chunk", [1, 2, 16])
def test_excluded_and_filtered_items_leave_empty_slots(item_chunk: int) -> None:
    users = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    seen = (torch.tensor([0, 0, 1]), torch.tensor([1, 3, 3]))  # user 0 saw items 1 and 3, user 1 item 3
    allowed = torch.tensor([False, True, True, True, False])  # item 4 is filtered out
    values, items = topk_for_users(users, VECS, 4, item_chunk, seen, allowed)
    assert items.tolist() == [[2, 0, 0, 0], [1, 2, 0, 0]]  # padding 0 and every excluded item left out
    assert torch.isinf(values[items == 0]).all() and torch.isfinite(values[items > 0]).all()


def test_an_excluded_target_is_never_a_hit_however_deep_k() -> None:
    users = torch.tensor([[1.0, 1.0]])
    _, top = topk_for_users(users, VECS, 4, 16, (torch.tensor([0, 0, 0]), torch.tensor([1, 2, 3])))
    assert top.tolist() == [[4, 0, 0, 0]]
    figures = compute_user_metrics(top, torch.tensor([[3]]), [1, 4])  # the target, 3, was seen: excluded
    assert all(value.item() == 0.0 for value in figures.values())


def test_precision_keeps_the_k_denominator_on_a_short_list() -> None:
    hits = torch.tensor([[True, False, False, False]])  # a list of 2 items with its hit first, 2 empty slots
    assert precision_at_k(hits, torch.tensor([1]), 4).item() == pytest.approx(0.25)
    figures = compute_user_metrics(torch.tensor([[2, 1, 0, 0]]), torch.tensor([[1, -1]]), [4])
    assert figures["hit@4"].item() == 1.0 and figures["recall@4"].item() == 1.0
    assert figures["precision@4"].item() == pytest.approx(0.25) and figures["mrr@4"].item() == pytest.approx(0.5)
    assert figures["ndcg@4"].item() == pytest.approx(1 / math.log2(3))


def test_coverage_and_gini_count_real_items_only() -> None:
    top = torch.tensor([[2, 0, 0], [1, 2, 0]])
    assert item_coverage(top, 3, 4) == pytest.approx(2 / 4)  # items 1 and 2; never more than the catalogue
    assert item_coverage(torch.zeros(3, 5, dtype=torch.long), 5, 4) == 0.0
    assert gini_at_k(top, 3, 4) == pytest.approx(gini_at_k(torch.tensor([[2], [1], [2]]), 1, 4))


def test_beyond_accuracy_is_a_mean_over_the_items_a_list_holds() -> None:
    top = torch.tensor([[1, 3, 0], [2, 0, 0], [0, 0, 0]])
    # user 0's one pair (1, 3) is orthogonal: ILD 1; one item or none: no pair, 0
    assert intra_list_diversity(top, VECS, 3).tolist() == [1.0, 0.0, 0.0]
    counts = torch.tensor([0, 5, 1, 0, 2])
    info, ranks = self_information(counts), popularity_ranks(counts)
    expected = [(info[1] + info[3]).item() / 2, info[2].item(), 0.0]
    assert novelty(top, info, 3).tolist() == pytest.approx(expected)
    assert mean_popularity_rank(top, ranks, 3).tolist() == pytest.approx([(1 + 4) / 2, 3.0, 0.0])


def test_full_lists_give_the_figures_of_the_plain_means() -> None:
    generator = torch.Generator().manual_seed(3)
    vecs = torch.randn(51, 8, generator=generator)
    top = torch.stack([torch.randperm(50, generator=generator)[:10] + 1 for _ in range(64)])
    counts = torch.randint(0, 30, (51,), generator=generator)
    info, ranks = self_information(counts), popularity_ranks(counts)
    unit = torch.nn.functional.normalize(vecs, dim=-1)[top]
    gram = unit @ unit.transpose(1, 2)
    plain_ild = 1.0 - (gram.sum(dim=(1, 2)) - gram.diagonal(dim1=1, dim2=2).sum(dim=1)) / (10 * 9)
    assert torch.equal(intra_list_diversity(top, vecs, 10), plain_ild)
    assert torch.equal(novelty(top, info, 10), info[top].mean(dim=1))
    assert torch.equal(mean_popularity_rank(top, ranks, 10), ranks[top].mean(dim=1))


def test_reranking_keeps_short_lists_short() -> None:
    scores = torch.tensor([[3.0, 1.0, -torch.inf, -torch.inf]])
    items = torch.tensor([[2, 4, 0, 0]])
    boost = torch.tensor([0.0, 0.0, 0.0, 0.0, 5.0])
    mmr = Reranker(k=4, item_vecs=VECS, boosts=[(boost, 1.0)], mmr_lambda=0.5)
    new_scores, new_items = mmr(scores, items)
    assert new_items[torch.isfinite(new_scores)].tolist() == [4, 2]  # the boost reorders the two real items
    assert torch.isinf(new_scores[0, 2:]).all()
