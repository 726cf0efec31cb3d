"""Every interest model inherits the whole contract from `ModelContract`.

A tiny synthetic catalogue (40 items, random 16-d text) and sequences with one learnable rule:
item i is followed by item i + 1 (wrapping round). What a pipeline stage relies on is checked
for each model: shapes, padding invariance, learning, determinism, and a JSON + safetensors
round trip through `build_model`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

from dynrec_cli.training.checkpoint import build_model

N_ITEMS, TEXT_DIM, LENGTH, USERS = 40, 16, 12, 64
MOE = {"_target_": "dynrec_cli.adapters.moe.MoEAdapter", "experts": 4, "dropout": 0.0}
LINEAR = {"_target_": "dynrec_cli.adapters.projection.LinearAdapter"}
MLP = {"_target_": "dynrec_cli.adapters.projection.MLPAdapter", "hidden": 32, "dropout": 0.0}
_TRAINED: dict[type, torch.nn.Module] = {}
TINY = {"hidden": 32, "max_len": LENGTH, "dropout": 0.0}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run faster on one thread than fighting over many."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def text_table(seed: int = 1) -> torch.Tensor:
    """(N_ITEMS + 1, TEXT_DIM) random text, row 0 zeros."""
    table = torch.randn(N_ITEMS + 1, TEXT_DIM, generator=torch.Generator().manual_seed(seed))
    table[0] = 0
    return table


def successor_sequences(n_items: int = N_ITEMS, seed: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """inputs, targets, times: (USERS, LENGTH); runs of consecutive items, left-padded, 3..LENGTH long."""
    gen = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, n_items, (USERS, 1), generator=gen)
    seq = (starts + torch.arange(LENGTH + 1)) % n_items + 1  # (USERS, LENGTH + 1)
    times = torch.randint(1, 100_000, (USERS, LENGTH + 1), generator=gen).cumsum(1)
    lengths = torch.randint(3, LENGTH + 1, (USERS, 1), generator=gen)
    padded = torch.arange(LENGTH)[None] < LENGTH - lengths
    inputs, targets = seq[:, :-1].masked_fill(padded, 0), seq[:, 1:].masked_fill(padded, 0)
    return inputs, targets, times[:, :-1].masked_fill(padded, 0)


def train(model: torch.nn.Module, data: tuple[torch.Tensor, ...], steps: int = 30) -> list[float]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    model.train()
    for _ in range(steps):
        loss = model.loss(*data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    return losses


class ModelContract:
    """The suite. Subclasses set `target` and `kwargs` (without n_items)."""

    target: str
    kwargs: dict[str, Any] = {}

    def build(self, **overrides: Any) -> torch.nn.Module:
        model = build_model(self.target, {"n_items": N_ITEMS, **self.kwargs, **overrides})
        if getattr(model, "uses_text", False):
            model.set_text_table(text_table())
        inputs, _, _ = successor_sequences()
        train_items = inputs[inputs > 0]
        if model.trainable:
            model.set_item_counts(torch.bincount(train_items, minlength=N_ITEMS + 1))
        else:
            model.fit(train_items)
        return model

    def trained(self, fresh: bool = False) -> torch.nn.Module:
        """The model after 30 steps; cached per class (tests that use it only read it)."""
        if not fresh and type(self) in _TRAINED:
            return _TRAINED[type(self)]
        model = self.build()
        if model.trainable:
            train(model, successor_sequences())
        _TRAINED.setdefault(type(self), model.eval())
        return model

    def test_kwargs_are_json(self) -> None:
        assert json.loads(json.dumps(self.kwargs)) == self.kwargs

    def test_shapes(self) -> None:
        model = self.build().eval()
        inputs, _, times = successor_sequences()
        items, users = model.item_vectors(), model.user_vectors(inputs, times)
        assert items.shape[0] == N_ITEMS + 1 and users.shape == (USERS, items.shape[1])
        assert torch.isfinite(users).all() and torch.isfinite(items).all()
        assert not items[0].any(), "row 0 is padding"

    def test_left_padding_does_not_change_the_user(self) -> None:
        model = self.trained()
        inputs, _, times = successor_sequences()
        short_in, short_t = inputs[:, -6:], times[:, -6:]
        pad = torch.zeros(USERS, LENGTH - 6, dtype=torch.long)
        padded = model.user_vectors(torch.cat([pad, short_in], 1), torch.cat([pad, short_t], 1))
        assert torch.allclose(model.user_vectors(short_in, short_t), padded, atol=1e-5)

    def test_loss_is_finite_and_drops(self) -> None:
        model = self.build()
        if not model.trainable:
            pytest.skip("not trainable")
        losses = train(model, successor_sequences())
        assert all(map(lambda v: v == v and abs(v) != float("inf"), losses))
        assert losses[-1] < 0.5 * losses[0]

    def test_learns_the_pattern(self) -> None:
        model = self.trained()
        if not model.trainable:
            pytest.skip("not trainable")
        inputs, targets, times = successor_sequences(seed=3)  # fresh users, same rule
        scores = model.user_vectors(inputs, times) @ model.item_vectors().T
        scores[:, 0] = float("-inf")
        hit = (scores.argmax(1) == targets[:, -1]).float().mean()
        assert hit > 0.6

    def test_gradients_reach_the_gates(self) -> None:
        model = self.build()
        if not hasattr(model, "gates"):
            pytest.skip("no gates")
        model.train()
        model.loss(*successor_sequences()).backward()
        for name in model.gates():
            grad = getattr(model, name).grad
            assert grad is not None and grad.abs() > 0, name

    def test_deterministic_under_seed(self) -> None:
        runs = []
        for _ in range(2):
            torch.manual_seed(7)
            model = self.trained(fresh=True)
            inputs, _, times = successor_sequences()
            runs.append((model.item_vectors(), model.user_vectors(inputs, times)))
        assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])

    def test_save_and_rebuild_give_the_same_vectors(self, tmp_path) -> None:
        model = self.trained()
        path = tmp_path / "model.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
        kwargs = json.loads(json.dumps({"n_items": N_ITEMS, **self.kwargs}))
        torch.manual_seed(123)  # a different init, and no set_text_table: all must come from the file
        rebuilt = build_model(self.target, kwargs)
        rebuilt.load_state_dict(load_file(str(path)), strict=True)
        rebuilt.eval()
        inputs, _, times = successor_sequences()
        assert torch.equal(model.item_vectors(), rebuilt.item_vectors())
        assert torch.equal(model.user_vectors(inputs, times), rebuilt.user_vectors(inputs, times))


class TestSASRec(ModelContract):
    target = "dynrec_cli.models.sasrec.SASRec"
    kwargs = {**TINY, "layers": 1, "heads": 1}


class TestGRU4Rec(ModelContract):
    target = "dynrec_cli.models.gru4rec.GRU4Rec"
    kwargs = TINY


class TestPopularity(ModelContract):
    target = "dynrec_cli.models.pop.Popularity"


class TestZeroShot(ModelContract):
    target = "dynrec_cli.models.zeroshot.ZeroShot"
    kwargs = {"text_dim": TEXT_DIM, "max_len": LENGTH}


DYNREC = {**TINY, "text_dim": TEXT_DIM, "layers": 1, "heads": 2, "recent": 4}


class TestDynRecLinear(ModelContract):
    target = "dynrec_cli.models.dynrec.DynRec"
    kwargs = {**DYNREC, "adapter": LINEAR}


class TestDynRecMLP(ModelContract):
    target = "dynrec_cli.models.dynrec.DynRec"
    kwargs = {**DYNREC, "adapter": MLP}


class TestDynRecMoE(ModelContract):
    target = "dynrec_cli.models.dynrec.DynRec"
    kwargs = {**DYNREC, "adapter": MOE}


class TestDynRecSampled(ModelContract):
    target = "dynrec_cli.models.dynrec.DynRec"
    kwargs = {**DYNREC, "adapter": LINEAR, "loss": "sampled", "negatives": 16, "id_init": "random"}


class TestDynRecTextOnly(ModelContract):
    target = "dynrec_cli.models.dynrec.DynRec"
    kwargs = {**DYNREC, "adapter": MOE, "item_id": False}

    def test_cold_items_are_ranked_from_text(self) -> None:
        table = text_table()
        table[N_ITEMS] = table[N_ITEMS - 1]  # the cold item shares item 39's text
        model = build_model(self.target, {"n_items": N_ITEMS, **self.kwargs})
        model.set_text_table(table)
        train(model, successor_sequences(n_items=N_ITEMS - 1))  # item 40 never appears
        vectors = model.item_vectors()
        assert vectors[N_ITEMS].abs().sum() > 0
        assert torch.equal(vectors[N_ITEMS], vectors[N_ITEMS - 1])
        table[N_ITEMS] = torch.randn(TEXT_DIM)
        model.set_text_table(table)
        assert not torch.allclose(model.item_vectors()[N_ITEMS], vectors[N_ITEMS])
