"""Beyond-accuracy metrics against figures worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from dynrec_cli.evaluation.beyond import (
    beyond_accuracy,
    gini_at_k,
    intra_list_diversity,
    mean_popularity_rank,
    novelty,
    popularity_ranks,
    self_information,
)

# items 1..4 (row 0 = padding): 1 and 2 point the same way, 3 is orthogonal to them, 4 opposite to 1
VECS = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])


def test_intra_list_diversity_is_one_minus_mean_pairwise_cosine() -> None:
    top = torch.tensor([[1, 2, 3], [1, 4, 3]])
    # user 0: cos(1,2)=1, cos(1,3)=0, cos(2,3)=0 -> mean 1/3; user 1: cos(1,4)=-1, others 0 -> mean -1/3
    got = intra_list_diversity(top, VECS, 3)
    assert torch.allclose(got, torch.tensor([1 - 1 / 3, 1 + 1 / 3]))
    assert torch.allclose(intra_list_diversity(top, VECS, 2), torch.tensor([0.0, 2.0]))
    with pytest.raises(ValueError):
        intra_list_diversity(top, VECS, 1)


def test_novelty_and_popularity_rank() -> None:
    counts = torch.tensor([0, 5, 1, 0, 2])  # item 1 most popular, item 3 never trained on
    info = self_information(counts)
    # add-one smoothing: (count + 1) / (8 + 4)
    assert info[1].item() == pytest.approx(-math.log2(6 / 12))
    assert info[3].item() == pytest.approx(-math.log2(1 / 12))
    top = torch.tensor([[1, 3], [4, 2]])
    assert novelty(top, info, 2).tolist() == pytest.approx([(1 + math.log2(12)) / 2, (-math.log2(3 / 12) - math.log2(2 / 12)) / 2])
    ranks = popularity_ranks(counts)
    assert ranks[1:].tolist() == [1.0, 3.0, 4.0, 2.0]
    assert mean_popularity_rank(top, ranks, 2).tolist() == [2.5, 2.5]


def test_gini_of_recommendation_counts() -> None:
    # 4 items: every list is item 1 -> counts (2, 0, 0, 0): Gini = (n - 1) / n = 0.75
    assert gini_at_k(torch.tensor([[1, 2], [1, 3]]), 1, 4) == pytest.approx(0.75)
    # each item recommended once: perfectly equal
    assert gini_at_k(torch.tensor([[1, 2], [3, 4]]), 2, 4) == pytest.approx(0.0)
    # counts (3, 1, 0, 0): sorted (0, 0, 1, 3), sum_i (2i - n - 1) x_i / (n * total) = (1*1 + 3*3) / 16
    assert gini_at_k(torch.tensor([[1, 2], [1, 1]]), 2, 4) == pytest.approx(10 / 16)


def test_beyond_accuracy_is_the_same_in_any_chunk_size() -> None:
    top = torch.randint(1, 5, (7, 3))
    counts = torch.tensor([0, 5, 1, 0, 2])
    whole, chunked = beyond_accuracy(top, VECS, counts, [2, 3]), beyond_accuracy(top, VECS, counts, [2, 3], chunk=2)
    assert set(whole) == {"ild@2", "ild@3", "novelty@2", "novelty@3", "poprank@2", "poprank@3"}
    for name in whole:
        assert torch.allclose(whole[name], chunked[name]), name
