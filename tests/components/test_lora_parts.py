"""adapter=lora: the LoRA tower trains through DynRec's loss and refreshes its frozen table."""

from __future__ import annotations

import pytest
import torch

from dynrec_cli.adapters.lora import LoRADynRec, build_lora_model
from dynrec_cli.encoders.encode import encode_texts
from dynrec_cli.encoders.loading import load_language_model
from dynrec_cli.errors import ConfigError
from dynrec_cli.models.dynrec import DynRec

N_ITEMS = 30
LINEAR = {"_target_": "dynrec_cli.adapters.projection.LinearAdapter"}
TINY_LM = {"hidden": 16, "layers": 1, "heads": 2, "vocab": 256}


def build(lm_options: dict = TINY_LM, **lora: object) -> LoRADynRec:
    lm = load_language_model("tiny", tiny=lm_options)
    texts = [""] + [f"item {i} genre{i % 4} " + "word " * (i % 7) for i in range(1, N_ITEMS + 1)]
    table = encode_texts(lm, texts, "mean", 8, 32, True, torch.device("cpu"), progress=False).embeddings
    core = DynRec(N_ITEMS, lm.hidden_size, LINEAR, hidden=8, layers=1, heads=2, max_len=8)
    core.set_text_table(table)
    return build_lora_model(core, lm, texts, {"r": 4, "batch_items": 10, **lora}, "mean", 32, True, 8)


@pytest.fixture
def model() -> LoRADynRec:
    return build()


def batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    items = torch.randint(1, N_ITEMS + 1, (4, 9))
    return items[:, :-1], items[:, 1:], torch.arange(8).expand(4, 8) * 60


def test_loss_gradient_reaches_the_lora_weights(model: LoRADynRec) -> None:
    model.train()
    model.loss(*batch()).backward()
    lora_b = [p for name, p in model.tower.named_parameters() if "lora_B" in name]
    assert lora_b and all(p.grad is not None and p.grad.abs().sum() > 0 for p in lora_b)
    assert model.core.adapter.proj.weight.grad.abs().sum() > 0
    frozen = [p for name, p in model.tower.named_parameters() if "lora_" not in name]
    assert all(p.grad is None for p in frozen), "the language model itself stays frozen"
    assert not model.core.text_table.requires_grad, "the cached table is never part of the graph"


def test_untrained_tower_reproduces_the_frozen_table(model: LoRADynRec) -> None:
    # peft starts lora_B at zero: the tower must encode exactly as the pretrain stage did
    assert torch.allclose(model.tower.encode_all(), model.core.text_table, atol=1e-5)


def test_refresh_rewrites_the_table_but_not_the_id_embeddings(model: LoRADynRec) -> None:
    before, ids = model.core.text_table.clone(), model.core.id_emb.weight.detach().clone()
    with torch.no_grad():
        for name, p in model.tower.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.5)
    model.end_epoch()
    after = model.core.text_table
    assert not torch.allclose(after[1:], before[1:]) and not after[0].any()
    assert torch.equal(model.core.id_emb.weight, ids), "no PCA re-initialisation on refresh"
    assert model.figures()["refreshes"] == 1


def test_best_state_copy_leaves_out_the_frozen_model_and_loads_back(model: LoRADynRec) -> None:
    state = model.state_dict()
    assert any("lora_B" in k for k in state) and "core.text_table" in state
    assert not any(k.startswith("tower.") and "lora_" not in k for k in state)
    model.load_state_dict(state)  # strict: only the frozen weights may be absent
    with pytest.raises(RuntimeError):
        model.load_state_dict({k: v for k, v in state.items() if k != "core.text_table"})


TWO_LAYERS = {**TINY_LM, "layers": 2}


@pytest.mark.parametrize("top", [1, 2])
def test_top_layers_over_cached_states_encode_as_the_whole_model(top: int) -> None:
    model = build(TWO_LAYERS, layers=top)
    assert model.tower.below is not None and len(model.tower.top) == top
    assert torch.allclose(model.tower.encode_all(), model.core.text_table, atol=1e-5)


def test_only_the_top_layers_get_lora_and_gradient() -> None:
    model = build(TWO_LAYERS, layers=1)
    model.train()
    model.loss(*batch()).backward()
    lora_b = {name: p for name, p in model.tower.named_parameters() if "lora_B" in name}
    assert lora_b and all(".layer.1." in name for name in lora_b), list(lora_b)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in lora_b.values())
    assert all(p.grad is None for name, p in model.tower.named_parameters() if "lora_" not in name)
    assert not model.tower.below.requires_grad


def test_layers_beyond_the_model_or_without_a_bert_stack_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="has 2 layers"):
        build(TWO_LAYERS, layers=3)
    with pytest.raises(ConfigError, match="BERT-like encoder"):
        build({**TINY_LM, "arch": "gpt2"}, layers=1)
