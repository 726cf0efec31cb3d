"""An interrupted text encoding resumes where it stopped: finished chunks come from the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from dynrec_cli.encoders import encode as encode_module

PRETRAIN = ["model=dynrec", "adapter=linear", "encoder=tiny", "encoder.batch_size=16", "encoder.cache_chunk=64"]


def _encoding(run: Path) -> dict:
    return json.loads((run / "pretrain" / "manifest.json").read_text())["figures"]["encoding"]


def test_interrupted_encoding_resumes_after_the_last_written_chunk(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = f"encoder.cache_dir={tmp_path / 'cache'}"
    real_pool, batches = encode_module.pool, []

    def pool_then_stop(*args, **kwargs):
        batches.append(1)
        if len(batches) > 9:  # 2 chunks of 4 batches written, the 3rd chunk half done
            raise RuntimeError("interrupted")
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(encode_module, "pool", pool_then_stop)
    with pytest.raises(RuntimeError, match="interrupted"):
        cli("pretrain", f"run_dir={tmp_path / 'cut'}", cache, *PRETRAIN)
    shards = sorted(p.name for p in (tmp_path / "cache").rglob("shard-*.json"))
    assert shards == ["shard-00000.json", "shard-00001.json"]
    assert not (tmp_path / "cut" / "pretrain" / "manifest.json").exists()

    monkeypatch.setattr(encode_module, "pool", real_pool)
    resumed = cli("pretrain", f"run_dir={tmp_path / 'cut'}", cache, *PRETRAIN)
    assert resumed.exit_code == 0, resumed.output
    whole = cli("pretrain", f"run_dir={tmp_path / 'whole'}", f"encoder.cache_dir={tmp_path / 'other'}", *PRETRAIN)
    assert whole.exit_code == 0, whole.output
    done, reference = _encoding(tmp_path / "cut"), _encoding(tmp_path / "whole")
    assert done["encoded"] == reference["encoded"] - 128  # only what the interruption lost
    assert reference["cached"] == 0 and done["cached"] > 0
    table = load_file(str(tmp_path / "cut" / "pretrain" / "item_text.safetensors"))["text"]
    expected = load_file(str(tmp_path / "whole" / "pretrain" / "item_text.safetensors"))["text"]
    torch.testing.assert_close(table, expected, atol=1e-5, rtol=1e-4)
