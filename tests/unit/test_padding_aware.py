"""Padding-aware batching and last-position scoring give the figures of the plain computation."""

from __future__ import annotations

import numpy as np
import torch

from dynrec_cli.data.sequences import UserSequences, last_window
from dynrec_cli.evaluation.evaluator import evaluate_split
from dynrec_cli.models.padding import trim_left_padding
from dynrec_cli.models.sasrec import SASRec

N_ITEMS, MAX_LEN = 30, 8


def _sequences(lengths: list[int], seed: int) -> UserSequences:
    rng = np.random.default_rng(seed)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    items = rng.integers(1, N_ITEMS + 1, indptr[-1]).astype(np.int64)
    return UserSequences(indptr, items, np.arange(indptr[-1], dtype=np.int64))


def _model() -> SASRec:
    torch.manual_seed(0)
    return SASRec(N_ITEMS, hidden=16, layers=2, heads=2, dropout=0.0, max_len=MAX_LEN).eval()


def test_trim_keeps_every_real_column() -> None:
    items = torch.tensor([[0, 0, 0, 4, 5], [0, 0, 0, 0, 6]])
    targets = torch.tensor([[0, 0, 7, 5, 8], [0, 0, 0, 0, 9]])
    cut_items, cut_targets = trim_left_padding(items, targets, targets=targets)
    assert cut_items.tolist() == [[0, 4, 5], [0, 0, 6]] and cut_targets.tolist() == [[7, 5, 8], [0, 0, 9]]
    assert trim_left_padding(torch.zeros(2, 4, dtype=torch.long))[0].shape == (2, 1)


def test_last_position_scoring_equals_the_full_encoding() -> None:
    model = _model()
    seqs = _sequences([1, 3, 8, 12, 5], seed=1)
    items, times = last_window(seqs, np.arange(5), MAX_LEN)
    with torch.inference_mode():
        full = model.encode(items, times)[:, -1]
        torch.testing.assert_close(model.user_vectors(items, times), full, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model.user_vectors(*trim_left_padding(items, times)), full, atol=1e-5, rtol=1e-5)


def test_length_sorted_chunks_keep_each_users_figures() -> None:
    model = _model()
    lengths = [9, 1, 4, 12, 2, 7, 3, 15, 1, 6]
    history, targets = _sequences(lengths, seed=2), _sequences([1] * len(lengths), seed=3)
    cpu = torch.device("cpu")
    together = evaluate_split(model, history, targets, history, [5], MAX_LEN, 3, 7, cpu)
    for row, user in enumerate(together.users):
        alone = evaluate_split(model, history, targets, history, [5], MAX_LEN, 3, 7, cpu, users=np.array([user]))
        assert together.topk[row].tolist() == alone.topk[0].tolist()
        for name, values in together.per_user.items():
            assert values[row] == alone.per_user[name][0], (name, user)
