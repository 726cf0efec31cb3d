"""Decoder language models (`last` pooling) as a GPU box runs them, on a tiny GPT-2 on the CPU:
padding on either side, batches by a token budget, bf16 weights, layers placed by accelerate."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from dynrec_cli.encoders.encode import encode_texts, text_batches
from dynrec_cli.encoders.loading import LoadedLM, load_language_model
from dynrec_cli.errors import ConfigError
from tests.hub_stand_in import build_tiny_decoder

CPU = torch.device("cpu")
TEXTS = ["toy story", "the godfather part ii drama crime", "heat", "", "star wars episode iv a new hope action adventure sci fi",
         "comedy romance", "alien horror sci fi thriller"]


@pytest.fixture(scope="module")
def decoder_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_decoder(tmp_path_factory.mktemp("decoder"), padding_side="left")


@pytest.fixture(scope="module")
def decoder(decoder_folder: Path) -> LoadedLM:
    return load_language_model(str(decoder_folder))


def encode(lm: LoadedLM, texts: list[str], **options) -> torch.Tensor:
    options = {"pooling": "auto", "batch_size": 64, "max_length": 32, "normalize": False, "device": CPU, "progress": False,
               **options}
    return encode_texts(lm, texts, **options).embeddings


def test_a_padded_text_pools_as_it_does_alone(decoder: LoadedLM) -> None:
    assert decoder.kind == "decoder" and decoder.tokenizer.padding_side == "right"  # saved as left: overridden
    together = encode(decoder, TEXTS)
    alone = torch.cat([encode(decoder, [text]) for text in TEXTS])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)


def test_left_padding_with_positions_from_the_mask_pools_the_same(decoder: LoadedLM) -> None:
    """What `last` pooling reads on a left-padded batch is the unpadded text's last state."""
    from dynrec_cli.encoders.pooling import pool

    tokenizer = decoder.tokenizer
    tokenizer.padding_side = "left"
    try:
        batch = tokenizer(TEXTS[:3], padding=True, return_tensors="pt")
    finally:
        tokenizer.padding_side = "right"
    positions = (batch["attention_mask"].cumsum(1) - 1).clamp(min=0)
    with torch.inference_mode():
        hidden = decoder.model(**batch, position_ids=positions).last_hidden_state
    left = pool(hidden, batch["attention_mask"], "last")
    torch.testing.assert_close(left, encode(decoder, TEXTS[:3]), atol=1e-5, rtol=1e-5)


def test_a_token_budget_makes_batches_within_it_and_the_same_vectors(decoder: LoadedLM) -> None:
    batches = text_batches(decoder, TEXTS, 32, 64, batch_tokens=12)
    lengths = [len(decoder.tokenizer(t)["input_ids"]) or 1 for t in TEXTS]
    assert sorted(i for batch in batches for i in batch) == list(range(len(TEXTS)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 12
        assert lengths[batch[0]] == max(lengths[i] for i in batch)  # longest first
    assert len(batches) > 1 and max(len(b) for b in batches) > 1  # short texts share a batch
    torch.testing.assert_close(encode(decoder, TEXTS, batch_tokens=12), encode(decoder, TEXTS), atol=1e-5, rtol=1e-5)
    with pytest.raises(ConfigError, match="encoder.batch_tokens=0"):
        encode(decoder, TEXTS, batch_tokens=0)


def test_bf16_weights_encode_close_to_fp32(decoder_folder: Path, decoder: LoadedLM) -> None:
    half = load_language_model(str(decoder_folder), dtype=torch.bfloat16)
    assert next(half.model.parameters()).dtype == torch.bfloat16
    cosine = torch.nn.functional.cosine_similarity(encode(half, TEXTS[:3]), encode(decoder, TEXTS[:3]))
    assert (cosine > 0.99).all()


def test_layers_placed_by_accelerate_stay_where_they_are(decoder_folder: Path, decoder: LoadedLM) -> None:
    from accelerate import dispatch_model

    placed = load_language_model(str(decoder_folder), device_map="auto")  # one device here: loaded onto it
    torch.testing.assert_close(encode(placed, TEXTS), encode(decoder, TEXTS), atol=1e-5, rtol=1e-5)
    # spread over devices (several GPUs, or GPU and CPU), accelerate's hooks move the activations
    # between layers: encoding sends the inputs to the first layer's device and moves nothing
    dispatch_model(placed.model, device_map={"": "cpu"})
    assert placed.model.hf_device_map == {"": "cpu"}
    torch.testing.assert_close(encode(placed, TEXTS), encode(decoder, TEXTS), atol=1e-5, rtol=1e-5)


def test_device_map_without_accelerate_names_the_extra(decoder_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "accelerate", None)  # as Python sees a package that is not installed
    with pytest.raises(ConfigError, match=r"encoder.device_map=auto needs the accelerate package: pip install 'dynrec\[gpu\]'"):
        load_language_model(str(decoder_folder), device_map="auto")


def test_a_revision_is_for_hub_ids_only(decoder_folder: Path) -> None:
    for model in (str(decoder_folder), "tiny"):
        with pytest.raises(ConfigError, match="only a Hub id has revisions"):
            load_language_model(model, revision="v2")
