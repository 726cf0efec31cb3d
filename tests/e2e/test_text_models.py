"""The language-model-assisted models through the CLI, with the tiny random encoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
TINY_DYNREC = [
    "model=dynrec", "encoder=tiny", "model.hidden=16", "model.layers=1", "model.heads=1", "model.max_len=20",
    "trainer=tiny", "trainer.batch_size=256", "data.max_seq_len=40",
]


@pytest.fixture
def cache(tmp_path: Path) -> str:
    return f"encoder.cache_dir={tmp_path / 'cache'}"


@pytest.mark.parametrize("adapter", ["linear", "mlp", "moe"])
def test_dynrec_trains_with_each_adapter(cli, tmp_path: Path, cache: str, adapter: str) -> None:
    run = tmp_path / adapter
    result = cli("train", f"run_dir={run}", f"adapter={adapter}", cache, *TINY_DYNREC)
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test/ndcg@10"] > 0
    for segment in ("cold", "warm", "short", "long"):  # a segment without users has its count, no figures
        assert (f"test/{segment}/recall@10" in metrics) == (metrics[f"test/{segment}/users"] > 0)
    gates = json.loads((run / "finetune" / "manifest.json").read_text())["figures"]["gates"]
    assert set(gates) == {"alpha", "beta", "gamma", "delta", "text_match"}  # text_match: its weight, picked on valid


def test_new_adapter_does_not_re_encode_text(cli, tmp_path: Path, cache: str) -> None:
    run = tmp_path / "run"
    assert cli("train", f"run_dir={run}", "adapter=linear", cache, *TINY_DYNREC).exit_code == 0
    again = cli("train", f"run_dir={run}", "adapter=mlp", cache, *TINY_DYNREC)
    assert again.exit_code == 0, again.output
    assert "[pretrain] up to date, skipped" in again.output
    assert "[finetune] running" in again.output


def test_encoding_cache_is_reused_across_runs(cli, tmp_path: Path, cache: str) -> None:
    for name in ("a", "b"):
        assert cli("train", f"run_dir={tmp_path / name}", "adapter=linear", cache, *TINY_DYNREC).exit_code == 0
    first = json.loads((tmp_path / "a" / "pretrain" / "manifest.json").read_text())["figures"]["encoding"]
    second = json.loads((tmp_path / "b" / "pretrain" / "manifest.json").read_text())["figures"]["encoding"]
    assert first["encoded"] > 0 and first["cached"] == 0
    assert second["encoded"] == 0 and second["cached"] == second["items"]


def test_cold_items_are_ranked_by_a_text_only_model(cli, tmp_path: Path, cache: str) -> None:
    run = tmp_path / "cold"
    result = cli(
        "train", f"run_dir={run}", "adapter=linear", "model.item_id=false", "data.cold_items=0.2",
        "data.min_item_interactions=1", cache, *TINY_DYNREC,
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test/cold/users"] > 0 and metrics["test/warm/users"] > 0
    gates = json.loads((run / "finetune" / "manifest.json").read_text())["figures"]["gates"]
    assert "delta" not in gates


def test_zeroshot_needs_no_training(cli, tmp_path: Path, cache: str) -> None:
    run = tmp_path / "zs"
    result = cli("train", f"run_dir={run}", "model=zeroshot", "encoder=tiny", cache)
    assert result.exit_code == 0, result.output
    figures = json.loads((run / "finetune" / "manifest.json").read_text())["figures"]
    assert "epochs_run" not in figures
    assert json.loads((run / "metrics.json").read_text())["test/users"] == 300


def test_text_model_without_encoder_fails_clearly(cli, tmp_path: Path) -> None:
    result = cli("train", f"run_dir={tmp_path / 'x'}", "model=dynrec", "adapter=linear", "encoder=none")
    assert result.exit_code == 2
    assert "encoder=minilm" in result.output


def test_unknown_model_id_fails_without_network(cli, tmp_path: Path) -> None:
    result = cli("pretrain", f"run_dir={tmp_path / 'x'}", "encoder=hf", "encoder.model=nobody/no-such-model")
    assert result.exit_code == 2
    assert "nobody/no-such-model" in result.output
    assert not (tmp_path / "x" / "pretrain").exists()


def test_cls_pooling_on_a_decoder_fails(cli, tmp_path: Path) -> None:
    result = cli(
        "pretrain", f"run_dir={tmp_path / 'x'}", "encoder=tiny", "encoder.tiny.arch=gpt2", "encoder.kind=decoder",
        "encoder.pooling=cls",
    )
    assert result.exit_code == 2
    assert "cls" in result.output


def test_mlm_pretraining_saves_the_adapted_model(cli, tmp_path: Path, cache: str) -> None:
    run = tmp_path / "mlm"
    result = cli("pretrain", f"run_dir={run}", "encoder=tiny", "pretrain.mlm.epochs=1", cache)
    assert result.exit_code == 0, result.output
    figures = json.loads((run / "pretrain" / "manifest.json").read_text())["figures"]
    assert figures["mlm"]["epochs"] == 1
    assert (run / "pretrain" / "lm").is_dir()
