"""Nothing is unpickled from disk: a pickle planted where a checkpoint or a cached embedding
shard should be is refused (or ignored), and the code it carries never runs."""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path

from tests.bad_inputs.case import CATALOGUE, LOG, PREPARE_ARGS, pickle_payload, rehash
from tests.conftest import REPO


def plant(path: Path, marker: Path) -> None:
    path.write_bytes(pickle_payload(marker))


def test_the_payload_works_when_unpickled(tmp_path: Path) -> None:
    """The control: this file would run code if anything unpickled it."""
    marker = tmp_path / "pwned"
    plant(tmp_path / "payload.bin", marker)
    pickle.loads((tmp_path / "payload.bin").read_bytes())  # noqa: S301 - on purpose
    assert marker.exists()


def test_pickle_in_place_of_the_model_is_refused(cli, tmp_path: Path, trained_run: Path) -> None:
    run, marker = tmp_path / "run", tmp_path / "pwned"
    shutil.copytree(trained_run, run)
    plant(run / "finetune" / "model.safetensors", marker)
    rehash(run / "finetune", "model.safetensors")  # even with a matching manifest hash

    result = cli("evaluate", f"run_dir={run}", "--force")

    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "model.safetensors: not a safetensors checkpoint" in errors[0], result.output
    assert not marker.exists()


def test_pickle_in_the_embedding_cache_is_ignored_not_run(cli, tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(LOG)
    (tmp_path / "items.csv").write_text(CATALOGUE)
    cache, marker = tmp_path / "cache", tmp_path / "pwned"
    args = ["pretrain", f"run_dir={tmp_path / 'run'}", "data=csv", f"data.interactions={tmp_path / 'log.csv'}",
            f"data.items={tmp_path / 'items.csv'}", *PREPARE_ARGS, "model=dynrec", "encoder=tiny",
            f"encoder.cache_dir={cache}"]
    assert cli(*args).exit_code == 0
    shards = sorted(cache.rglob("shard-*.safetensors"))
    assert shards
    for shard in shards:
        plant(shard, marker)

    result = cli(*args, "--force")

    assert result.exit_code == 0, result.output
    assert "ignoring shard-" in result.output  # the damaged shard is re-encoded, never loaded
    assert not marker.exists()


def test_no_code_path_unpickles() -> None:
    """torch.load only with weights_only=True, np.load never with allow_pickle=True, no pickle."""
    offenders = []
    for path in (REPO / "dynrec_cli").rglob("*.py"):
        text = path.read_text()
        for match in re.finditer(r"torch\.load\([^)]*\)|pickle\.loads?\(|allow_pickle\s*=\s*True|joblib\.load", text):
            if "weights_only=True" not in match.group(0):
                offenders.append(f"{path.relative_to(REPO)}: {match.group(0)}")
    assert not offenders, offenders
