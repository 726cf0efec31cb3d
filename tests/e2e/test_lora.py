"""adapter=lora through the CLI: LoRA on the tiny language model, trained with DynRec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

pytestmark = pytest.mark.slow
# TINY_DYNREC of test_text_models.py, one epoch; refresh batches of 512 texts
TINY_LORA = [
    "model=dynrec", "adapter=lora", "encoder=tiny", "encoder.batch_size=512", "model.hidden=16", "model.layers=1",
    "model.heads=1", "model.max_len=20", "trainer=tiny", "trainer.epochs=1", "trainer.batch_size=256",
    "data.max_seq_len=40",
]  # fmt: skip


def test_lora_trains_the_language_model_and_refreshes_the_table(cli, tmp_path: Path) -> None:
    run = tmp_path / "lora"
    result = cli("train", f"run_dir={run}", f"encoder.cache_dir={tmp_path / 'cache'}", *TINY_LORA)
    assert result.exit_code == 0, result.output
    assert (run / "metrics.json").exists(), "capture, rank and evaluate ran on the saved DynRec alone"
    lora = load_file(str(run / "finetune" / "lora" / "adapter_model.safetensors"))
    lora_b = [t for name, t in lora.items() if "lora_B" in name]
    assert lora_b and any(t.abs().sum() > 0 for t in lora_b), "peft starts lora_B at zero: training moved it"
    final = load_file(str(run / "finetune" / "model.safetensors"))["text_table"]
    frozen = load_file(str(run / "pretrain" / "item_text.safetensors"))["text"]
    assert final.shape == frozen.shape and not torch.allclose(final, frozen), "the table holds the refreshed encoding"
    spec = json.loads((run / "finetune" / "model.json").read_text())
    assert "lora" not in spec["kwargs"]["adapter"], "the checkpoint is a plain DynRec"
    figures = json.loads((run / "finetune" / "manifest.json").read_text())["figures"]["lora"]
    assert figures["r"] == 8 and figures["refreshes"] == 1 and figures["lora_parameters"] > 0


def test_lora_on_the_top_layer_trains_it_alone_over_cached_states(cli, tmp_path: Path) -> None:
    run = tmp_path / "top"
    overrides = [*TINY_LORA, "encoder.tiny.layers=2", "adapter.lora.layers=1"]
    result = cli("train", f"run_dir={run}", f"encoder.cache_dir={tmp_path / 'cache'}", *overrides)
    assert result.exit_code == 0, result.output
    lora = load_file(str(run / "finetune" / "lora" / "adapter_model.safetensors"))
    assert lora and all(".layer.1." in name for name in lora), sorted(lora)
    assert any(t.abs().sum() > 0 for name, t in lora.items() if "lora_B" in name)
    figures = json.loads((run / "finetune" / "manifest.json").read_text())["figures"]["lora"]
    assert figures["layers"] == 1 and figures["refreshes"] == 1
    bad = cli("train", f"run_dir={tmp_path / 'bad'}", f"encoder.cache_dir={tmp_path / 'cache'}", *TINY_LORA, "adapter.lora.layers=5")
    assert bad.exit_code == 2 and "adapter.lora.layers=5" in bad.output
