"""`encoder=hf encoder.model=<Hub id>`: downloaded through a loopback stand-in for the Hub into
Hugging Face's own cache, then the same run offline from that cache; bad ids and revisions in one line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.hub_stand_in import HubStandIn, Repo, build_tiny_bert

pytestmark = pytest.mark.slow
TINY = ["model=dynrec", "adapter=linear", "encoder=hf", "model.hidden=16", "model.layers=1", "model.heads=1",
        "model.max_len=20", "trainer=tiny", "trainer.epochs=1", "trainer.batch_size=256", "data.max_seq_len=40",
        "eval.report=false", "encoder.max_length=32"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """tiny-org/bert: `main`, and a tag `v2` with other weights."""
    root = tmp_path_factory.mktemp("models")
    repo = Repo()
    repo.add(build_tiny_bert(root / "main"))
    repo.add(build_tiny_bert(root / "v2", hidden=24), ref="v2")
    return repo


def dynrec(tmp_path: Path, *args: str, endpoint: str | None = None, offline: bool = False) -> subprocess.CompletedProcess:
    """`dynrec ARGS` in a child with its own Hugging Face cache (tmp_path/hf): online through `endpoint`, or offline."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT")}
    env.update(HF_HOME=str(tmp_path / "hf"), COLUMNS="200", OMP_NUM_THREADS="1")
    env.update({"HF_ENDPOINT": endpoint} if endpoint else {})
    env.update({"HF_HUB_OFFLINE": "1"} if offline else {})
    return subprocess.run([sys.executable, "-m", "dynrec_cli", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)


def test_a_hub_model_is_downloaded_then_used_offline_from_the_cache(tmp_path: Path, repo: Repo) -> None:
    cache = f"encoder.cache_dir={tmp_path / 'embeddings'}"
    with HubStandIn({"tiny-org/bert": repo}) as hub:
        online = dynrec(tmp_path, "train", f"run_dir={tmp_path / 'online'}", "encoder.model=tiny-org/bert", cache, *TINY,
                        endpoint=hub.endpoint)
        assert online.returncode == 0, online.stderr[-3000:]
        asked = hub.requests
    commit = repo.refs["main"]
    assert f"GET /tiny-org/bert/resolve/{commit}/model.safetensors" in asked
    snapshot = tmp_path / "hf" / "hub" / "models--tiny-org--bert" / "snapshots" / commit
    assert (snapshot / "model.safetensors").exists()  # Hugging Face's own cache layout
    figures = json.loads((tmp_path / "online" / "pretrain" / "manifest.json").read_text())["figures"]
    assert figures["commit"] == commit and figures["encoding"]["encoded"] > 1000

    # the stand-in is gone: HF_HUB_OFFLINE=1 reads the cache, and the embedding cache knows the texts
    offline = dynrec(tmp_path, "train", f"run_dir={tmp_path / 'offline'}", "encoder.model=tiny-org/bert", cache, *TINY,
                     offline=True)
    assert offline.returncode == 0, offline.stderr[-3000:]
    again = json.loads((tmp_path / "offline" / "pretrain" / "manifest.json").read_text())["figures"]
    assert again["commit"] == commit and again["identity"] == figures["identity"]
    assert again["encoding"]["encoded"] == 0 and again["encoding"]["cached"] == figures["encoding"]["items"]
    one, two = (json.loads((tmp_path / run / "metrics.json").read_text()) for run in ("online", "offline"))
    assert one == two


def test_a_revision_pins_other_files_and_another_cache_key(tmp_path: Path, repo: Repo) -> None:
    with HubStandIn({"tiny-org/bert": repo}) as hub:
        done = dynrec(tmp_path, "pretrain", f"run_dir={tmp_path / 'v2'}", "encoder.model=tiny-org/bert", "encoder.revision=v2",
                      f"encoder.cache_dir={tmp_path / 'embeddings'}", *TINY, endpoint=hub.endpoint)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads((tmp_path / "v2" / "pretrain" / "manifest.json").read_text())["figures"]
    assert figures["commit"] == repo.refs["v2"] != repo.refs["main"]
    assert figures["revision"] == "v2" and figures["dim"] == 24
    settings = [json.loads(p.read_text()) for p in (tmp_path / "embeddings").glob("*/settings.json")]
    assert len(settings) == 1 and settings[0]["identity"] == figures["identity"]


def test_an_id_or_revision_the_hub_does_not_have_is_one_line(tmp_path: Path, repo: Repo) -> None:
    with HubStandIn({"tiny-org/bert": repo}) as hub:
        missing = dynrec(tmp_path, "pretrain", f"run_dir={tmp_path / 'a'}", "encoder.model=tiny-org/no-such-model", *TINY,
                         endpoint=hub.endpoint)
        revision = dynrec(tmp_path, "pretrain", f"run_dir={tmp_path / 'b'}", "encoder.model=tiny-org/bert",
                          "encoder.revision=v9", *TINY, endpoint=hub.endpoint)
    for done, words in ((missing, ["tiny-org/no-such-model", hub.endpoint]), (revision, ["encoder.revision=v9", hub.endpoint])):
        assert done.returncode == 2, done.stderr[-3000:]
        error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(error) == 1 and all(word in error[0] for word in words), done.stderr[-2000:]
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "a" / "pretrain").exists() and not (tmp_path / "b" / "pretrain").exists()
    offline = dynrec(tmp_path, "pretrain", f"run_dir={tmp_path / 'c'}", "encoder.model=tiny-org/bert", *TINY, offline=True)
    assert offline.returncode == 2 and "HF_HUB_OFFLINE=1" in offline.stderr  # never downloaded into this cache
    with socket.socket() as probe:  # a loopback port nothing listens on: the Hub cannot be reached
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    down = dynrec(tmp_path, "pretrain", f"run_dir={tmp_path / 'd'}", "encoder.model=tiny-org/bert", *TINY, endpoint=closed)
    assert down.returncode == 2 and f"{closed} could not be reached" in down.stderr, down.stderr[-2000:]
