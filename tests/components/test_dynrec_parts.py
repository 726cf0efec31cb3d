"""DynRec's parts: time-gap buckets, the causal recency pool, adapters, ID initialisation."""

from __future__ import annotations

import pytest
import torch

from dynrec_cli.adapters import build_adapter
from dynrec_cli.data.clock import NS_PER_S as NS
from dynrec_cli.errors import ConfigError
from dynrec_cli.models.dynrec import DynRec
from dynrec_cli.models.time import recency_weights, time_gap_buckets

ADAPTERS = [
    {"_target_": "dynrec_cli.adapters.projection.LinearAdapter"},
    {"_target_": "dynrec_cli.adapters.projection.MLPAdapter", "hidden": 8, "dropout": 0.1},
    {"_target_": "dynrec_cli.adapters.moe.MoEAdapter", "experts": 3, "dropout": 0.1},
]
LINEAR = ADAPTERS[0]


def test_time_gap_buckets_are_log2_of_the_gap() -> None:
    items = torch.tensor([[0, 0, 5, 6, 7, 8, 9, 4]])
    times = torch.tensor([[0, 0, 1000, 1000, 1001, 1004, 999, 999 + 2**33]]) * NS  # times are nanoseconds
    # padding 0, first event 0, gap 0 -> 0, 1 s -> 1, 3 s -> 2, negative -> 0, huge -> capped
    assert time_gap_buckets(items, times, 32).tolist() == [[0, 0, 0, 0, 1, 2, 0, 31]]
    edges = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]) + 1
    times = torch.tensor([[0, 1, 3, 6, 7, 14, 15, 30, 31, 31 + 2**20]]) * NS  # gaps 1, 2, 3, 1, 7, 1, 15, 1, 2**20 s
    assert time_gap_buckets(edges, times, 32).tolist() == [[0, 1, 1, 2, 1, 3, 1, 4, 1, 20]]


def test_time_gaps_below_a_second_count() -> None:
    items = torch.tensor([[1, 2, 3, 4]])
    # gaps 0.999 s, 1.000 s, 2.999999999 s: the buckets of floor(log2(1 + gap)), not of whole seconds
    times = torch.tensor([[1_600_000_000 * NS, 1_600_000_000_999_000_000, 1_600_000_001_999_000_000,
                           1_600_000_004_998_999_999]])
    assert time_gap_buckets(items, times, 32).tolist() == [[0, 0, 1, 1]]
    lam_pos, lam_t = torch.tensor(0.0), torch.tensor(1.0)
    close = recency_weights(items[:, :2], times[:, :2], 2, lam_pos, lam_t, last_only=True)[0, 0]
    apart = times[:, :2].clone()
    apart[0, 0] -= 800_000_000  # the older event 0.8 s earlier: it weighs less
    far = recency_weights(items[:, :2], apart, 2, lam_pos, lam_t, last_only=True)[0, 0]
    assert far[0] < close[0]


def test_recency_pool_is_causal_banded_and_skips_padding() -> None:
    items = torch.tensor([[0, 0, 3, 4, 5, 6, 7, 8]])
    times = torch.tensor([[0, 0, 10, 20, 30, 40, 50, 60]]) * NS
    lam_pos, lam_t = torch.tensor(0.5), torch.tensor(0.1)
    weights = recency_weights(items, times, 3, lam_pos, lam_t)[0]
    assert torch.allclose(weights.sum(-1), torch.ones(8))
    assert not weights.triu(1).any(), "position t must not see later items"
    assert not weights.tril(-3).any(), "only the latest `recent` positions"
    assert not weights[2:, :2].any(), "padding is never pooled"
    assert weights[7, 7] > weights[7, 6] > weights[7, 5] > 0, "newer items weigh more"
    # changing the future leaves every earlier row unchanged
    later = items.clone()
    later[0, 5:] = torch.tensor([1, 2, 9])
    later_times = times.clone()
    later_times[0, 5:] = torch.tensor([41, 900, 5000]) * NS
    assert torch.equal(recency_weights(later, later_times, 3, lam_pos, lam_t)[0, :5], weights[:5])
    # the newest row alone (scoring, capture) is the full matrix's last row
    assert torch.allclose(recency_weights(items, times, 3, lam_pos, lam_t, last_only=True)[0], weights[-1:])


def test_dynrec_states_are_causal() -> None:
    model = DynRec(20, 6, LINEAR, hidden=8, layers=1, heads=2, max_len=8).eval()
    model.set_text_table(torch.randn(21, 6))
    items, times = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7]]), torch.arange(8)[None] * 60
    changed = items.clone()
    changed[0, 5:] = torch.tensor([11, 12, 13])
    before = model.states(items, times, model.item_view(items))
    after = model.states(changed, times, model.item_view(changed))
    assert torch.allclose(before[:, :5], after[:, :5], atol=1e-6)
    assert not torch.allclose(before[:, 5:], after[:, 5:])



@pytest.mark.parametrize("spec", ADAPTERS)
def test_user_vectors_read_each_distinct_item_once_and_match_every_position_path(spec: dict) -> None:
    model = DynRec(30, 6, spec, hidden=8, layers=2, heads=2, max_len=6).eval()
    model.set_text_table(torch.randn(31, 6))
    items = torch.tensor([[0, 0, 3, 3, 7, 3], [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 9]])
    times = torch.arange(6)[None].expand(3, -1) * 3600
    every_position = model.states(items, times, model.item_view(items), last_only=True)[:, -1]
    assert torch.allclose(model.user_vectors(items, times), every_position, atol=1e-6)
    assert torch.allclose(model.window_vectors(items, times, model.item_vectors()), every_position, atol=1e-6)

@pytest.mark.parametrize("spec", ADAPTERS, ids=lambda s: s["_target_"].rsplit(".", 1)[1])
def test_adapters_map_in_dim_to_out_dim(spec: dict) -> None:
    adapter = build_adapter(spec, 12, 5)
    assert adapter(torch.randn(7, 12)).shape == (7, 5)
    assert "_target_" in spec, "the spec is not consumed"


@pytest.mark.parametrize(
    "spec",
    [{"_target_": "os.system"}, {"_target_": "dynrec_cli.adapters.moe.Nope"}, {"experts": 2},
     {"_target_": "dynrec_cli.adapters.moe.MoEAdapter", "expert": 2}],
)  # fmt: skip
def test_build_adapter_refuses_bad_specs(spec: dict) -> None:
    with pytest.raises(ConfigError):
        build_adapter(spec, 4, 4)


def test_pca_init_follows_the_text() -> None:
    text = torch.randn(31, 10)
    text[7] = text[3]  # same text -> same initial ID vector
    model = DynRec(30, 10, LINEAR, hidden=8, id_init="pca")
    model.set_text_table(text)
    ids = model.id_emb.weight
    assert torch.allclose(ids[7], ids[3]) and not ids[0].any()
    assert ids[1:].std().item() == pytest.approx(0.02, rel=1e-3)
    random = DynRec(30, 10, LINEAR, hidden=8, id_init="random")
    before = random.id_emb.weight.clone()
    random.set_text_table(text)
    assert torch.equal(random.id_emb.weight, before)


def test_id_dropout_is_random_in_training_only() -> None:
    inputs, times = torch.tensor([[1, 2, 3, 4]]), torch.arange(4)[None]
    targets = torch.tensor([[2, 3, 4, 5]])
    for p, differs in ((0.5, True), (0.0, False)):
        model = DynRec(10, 4, LINEAR, hidden=8, dropout=0.0, max_len=4, id_dropout=p, id_init="random").train()
        model.set_text_table(torch.randn(11, 4))
        losses = {model.loss(inputs, targets, times).item() for _ in range(6)}
        assert (len(losses) > 1) is differs
        model.eval()
        assert len({model.loss(inputs, targets, times).item() for _ in range(3)}) == 1


def test_text_only_has_no_id_table_and_no_delta() -> None:
    model = DynRec(10, 4, LINEAR, hidden=8, item_id=False)
    assert model.id_emb is None and "delta" not in model.gates()
    assert not any("id_emb" in name for name in model.state_dict())
    assert set(DynRec(10, 4, LINEAR, hidden=8).gates()) == {"alpha", "beta", "gamma", "delta"}


@pytest.mark.parametrize("kwargs", [{"loss": "bce"}, {"id_init": "svd"}, {"id_dropout": 1.0}, {"recent": 0}])
def test_dynrec_refuses_bad_settings(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        DynRec(10, 4, LINEAR, **kwargs)


def test_text_table_must_fit_the_catalogue() -> None:
    with pytest.raises(ConfigError, match="text table"):
        DynRec(10, 4, LINEAR).set_text_table(torch.randn(10, 4))


def test_items_unseen_in_training_are_not_softmax_negatives() -> None:
    # a cold item does not exist at training time: its vector must get no gradient, so a
    # text-only model can still rank it when it appears
    torch.manual_seed(0)
    model = DynRec(n_items=10, text_dim=6, adapter=LINEAR, hidden=8, layers=1, heads=1, max_len=5, item_id=True, id_dropout=0.0)
    model.set_text_table(torch.randn(11, 6))
    counts = torch.ones(11)
    counts[[0, 7]] = 0  # item 7 never appears in training
    model.set_item_counts(counts)
    inputs = torch.tensor([[1, 2, 3, 4, 5]])
    model.loss(inputs, torch.tensor([[2, 3, 4, 5, 6]]), torch.zeros(1, 5, dtype=torch.long)).backward()
    assert model.id_emb.weight.grad[7].abs().sum() == 0
    assert model.id_emb.weight.grad[8].abs().sum() > 0


def test_text_match_adds_w_times_the_cosine_of_recent_whitened_text_to_every_score() -> None:
    torch.manual_seed(0)
    kwargs = {"n_items": 30, "text_dim": 6, "adapter": LINEAR, "hidden": 8, "layers": 1, "heads": 2, "max_len": 6}
    model = DynRec(**kwargs, text_match=True, text_match_dims=4).eval()
    text = torch.randn(31, 6) + 3.0  # off-centre, like sentence embeddings
    model.set_text_table(text)
    # whitening: the catalogue's text, centred, on its top 4 axes, has identity covariance there
    white = (text[1:] - model.match_mean) @ model.match_projection
    assert white.shape == (30, 4) and torch.allclose(white.T @ white / 30, torch.eye(4), atol=1e-4)
    items = torch.tensor([[0, 0, 3, 3, 7, 3], [1, 2, 3, 4, 5, 6]])
    times = torch.arange(6)[None].expand(2, -1) * 3600
    base_users, base_items = model.user_vectors(items, times), model.item_vectors()
    assert base_users.shape == (2, 8) and base_items.shape == (31, 8), "w = 0: the model as it was"
    model.set_text_match(3.0)
    users, table = model.user_vectors(items, times), model.item_vectors()
    assert users.shape == (2, 12) and table.shape == (31, 12)
    unit = torch.cat([torch.zeros(1, 4), torch.nn.functional.normalize(white, dim=-1)])  # padding row: zeros
    assert torch.allclose(table[:, 8:], unit, atol=1e-5)
    assert torch.allclose(users[:, 8:].norm(dim=-1), torch.full((2,), 3.0))
    assert torch.allclose(users @ table.T, base_users @ base_items.T + users[:, 8:] @ unit.T, atol=1e-4)
    # new items from their text and capture's window path agree with the trained items' path
    assert torch.allclose(model.text_item_vectors(text[1:])[:, 8:], unit[1:], atol=1e-5)
    assert torch.allclose(model.window_vectors(items, times, table), users, atol=1e-5)
    reloaded = DynRec(**kwargs, text_match=True, text_match_dims=4)
    reloaded.load_state_dict(model.state_dict())  # weight and whitening are buffers: checkpoints carry them
    assert reloaded.gates()["text_match"] == 3.0
    assert torch.equal(reloaded.match_projection, model.match_projection)
    with pytest.raises(ConfigError, match="text_match=false"):
        DynRec(**kwargs).set_text_match(1.0)


def test_whitening_stops_where_the_rows_run_out() -> None:
    from dynrec_cli.models.dynrec import whitening

    mean, projection = whitening(torch.randn(5, 16), 8)  # 5 rows span at most 4 centred axes
    assert mean.shape == (16,) and projection.shape == (16, 4) and torch.isfinite(projection).all()
