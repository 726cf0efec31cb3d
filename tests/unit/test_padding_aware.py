"""Padding-aware batching and last-position scoring give the figures of the plain computation."""

from __future__ import annotations

import numpy as np
import torch

from dynrec_cli.data.sequences import UserSequences, last_window
from dynrec_cli.evaluation.evaluator import evaluate_split
from dynrec_cli.models.attention import causal_mask
from dynrec_cli.models.padding import in_row_tiles, trim_left_padding
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


def test_unpadded_batches_take_the_causal_path_with_the_masked_figures() -> None:
    model = _model()
    full = _sequences([MAX_LEN + 2] * 4, seed=4)
    items, times = last_window(full, np.arange(4), MAX_LEN)
    assert causal_mask(items) is None and causal_mask(items[:, 1:].clamp_max(0)) is not None
    padded = torch.cat([items, torch.zeros(1, MAX_LEN, dtype=torch.long).index_fill_(1, torch.tensor([MAX_LEN - 1]), 3)])
    padded_times = torch.cat([times, times[:1]])
    with torch.inference_mode():  # the same rows beside a padded one go through the explicit mask
        torch.testing.assert_close(model.encode(items, times), model.encode(padded, padded_times)[:4], atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(model.user_vectors(items, times), model.user_vectors(padded, padded_times)[:4], atol=1e-6, rtol=1e-6)
    model.train()
    torch.manual_seed(5)
    loss = model.loss(items[:, :-1], items[:, 1:], times[:, :-1])
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in model.blocks.parameters())


def test_row_tiles_give_the_rows_of_one_call() -> None:
    model = _model()
    seqs = _sequences([1, 3, 2, 12, 9, 8, 2, 1], seed=6)
    items, times = last_window(seqs, np.arange(8), MAX_LEN)
    calls = []

    def encode(rows: torch.Tensor, stamps: torch.Tensor) -> torch.Tensor:
        calls.append(tuple(rows.shape))
        return model.user_vectors(rows, stamps)

    with torch.inference_mode():
        whole = model.user_vectors(items, times)
        torch.testing.assert_close(in_row_tiles(encode, items, times, tokens=3 * MAX_LEN), whole, atol=1e-6, rtol=1e-6)
    assert calls == [(3, 3), (3, MAX_LEN), (2, 2)]  # each tile cut to its own longest row
