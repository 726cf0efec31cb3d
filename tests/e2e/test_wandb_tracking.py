"""trainer.tracking=wandb, offline (WANDB_MODE=offline): what the W&B run files hold, read back
from the records W&B wrote; a missing wandb package is one line naming the extra."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, TINY_SASREC

pytestmark = pytest.mark.slow


def wandb_records(path: Path) -> Iterator[object]:
    """The protobuf records of a .wandb file (a LevelDB-style log: 7-byte header, 32 KiB blocks,
    each record chunk `crc32 (4) | length (2) | type (1) | data`, type 1 whole, 2-4 first/middle/last)."""
    from wandb.proto import wandb_internal_pb2

    data, block = path.read_bytes(), 32768
    assert data[:4] == b":W&B"
    position, parts = 7, b""
    while position + 7 <= len(data):
        left = block - position % block
        _, length, kind = struct.unpack("<IHB", data[position : position + 7]) if left >= 7 else (0, 0, 0)
        if kind == 0:  # the rest of a block is padding
            position += left
            continue
        parts += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(parts)
            parts = b""
            yield record


def _items(items) -> dict[str, object]:  # noqa: ANN001 - protobuf repeated field
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


def test_wandb_offline_logs_the_curves_the_config_and_the_final_figures(tmp_path: Path) -> None:
    pytest.importorskip("wandb")
    run = tmp_path / "run"
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path / "wandb-dir"), "WANDB_CONFIG_DIR": str(tmp_path / "cfg"),
           "WANDB_CACHE_DIR": str(tmp_path / "cache"), "WANDB_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "dynrec_cli", "train", f"run_dir={run}", *TINY_SASREC, "trainer.tracking=wandb",
                           "eval.report=false"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = (run / "tracking" / "wandb-run-id").read_text()
    files = sorted((run / "tracking" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 2 and all(f.name == f"run-{run_id}.wandb" for f in files)  # training, then evaluation: one W&B run
    history, summary, config = [], {}, {}
    for path in files:
        for record in wandb_records(path):
            kind = record.WhichOneof("record_type")
            if kind == "history":
                history.append(_items(record.history.item))
            elif kind == "summary":
                summary.update(_items(record.summary.update))
            elif kind == "run":
                config.update(_items(record.run.config.update))
                assert record.run.project == "dynrec" and record.run.display_name == str(run)
    assert [row["_step"] for row in history] == [1, 2]  # trainer=tiny: two epochs
    assert all("train/loss" in row and "valid/ndcg@10" in row for row in history)
    metrics = json.loads((run / "metrics.json").read_text())
    assert summary["final/test/ndcg@10"] == pytest.approx(metrics["test/ndcg@10"])
    assert config["model"]["_target_"].endswith("SASRec") and config["seed"] == 42


def test_wandb_missing_is_one_line_with_the_extra(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wandb", None)  # as Python sees a package that is not installed
    result = cli("train", f"run_dir={tmp_path / 'r'}", "model=pop", "trainer.tracking=wandb")
    assert result.exit_code == 2
    assert result.output.strip() == "error: trainer.tracking=wandb needs the wandb package: pip install 'dynrec[track]'"
    assert not (tmp_path / "r").exists()
