"""The Python API end to end: the same runs, lists, captures and errors as the CLI's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import dynrec_cli
from dynrec_cli.api import Run, capture
from tests.conftest import REPO, TINY_SASREC

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One tiny SASRec trained through the API, shared by this module."""
    return dynrec_cli.train(*TINY_SASREC, run_dir=tmp_path_factory.mktemp("api") / "sas")


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def _new_events(run: Run, n: int = 60) -> pd.DataFrame:
    """Events after everything the run holds, for known users and one new user, in the log's columns."""
    events = pd.read_parquet(run.path / "prepare" / "events.parquet")
    users = run.user_vectors().ids
    items = run.item_vectors().ids
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"user_id": rng.choice(users[:10], n), "item_id": rng.choice(items, n),
                          "timestamp": int(events["time"].max()) + 1 + rng.integers(0, 86400, n)})
    frame.loc[[3, 20], "user_id"] = "new-user"
    return frame


def test_train_returns_the_run_with_its_metrics_config_and_overrides(run: Run) -> None:
    assert isinstance(run, Run) and (run.path / "finetune" / "manifest.json").is_file()
    assert run.metrics == json.loads((run.path / "metrics.json").read_text())
    assert 0 <= run.metrics["test/ndcg@10"] <= 1
    assert run.config["model"]["hidden"] == 16 and run.config["run_dir"] == str(run.path)
    assert run.overrides == TINY_SASREC
    assert Run.open(run.path).metrics == run.metrics


@pytest.mark.parametrize(("k", "exclude_seen", "strategies"), [(5, True, None), (3, False, ["mmr"])])
def test_recommend_is_what_dynrec_rank_writes(cli, run: Run, tmp_path: Path, k: int, exclude_seen: bool, strategies) -> None:
    users = run.user_vectors().ids[:4]
    keys = [f"rank.k={k}", f"rank.exclude_seen={str(exclude_seen).lower()}", f"rank.users=[{','.join(users)}]",
            *([f"rank.strategies=[{','.join(strategies)}]"] if strategies else []), "rank.format=parquet"]
    assert cli("rank", f"run_dir={run.path}", *keys).exit_code == 0
    written = pd.read_parquet(run.path / "rank" / "recommendations.parquet")
    before = _files(run.path)
    table = run.recommend(users=users, k=k, exclude_seen=exclude_seen, strategies=strategies)
    assert _files(run.path) == before  # a query: nothing in the run folder is written
    assert list(table.columns) == ["user_id", "rank", "item_id", "score", "title"]
    pd.testing.assert_frame_equal(table, written)
    assert len(table) == 4 * k and table.groupby("user_id")["rank"].apply(list).map(lambda r: r == list(range(1, k + 1))).all()


def test_recommend_leaves_out_what_users_have_seen(run: Run) -> None:
    prepared = run.path / "prepare"
    events, items, users = (pd.read_parquet(prepared / f"{name}.parquet") for name in ("events", "items", "users"))
    user = users["user_id"].iloc[0]
    seen = set(items.set_index("item_idx").loc[events.loc[events["user_idx"] == users["user_idx"].iloc[0], "item_idx"], "item_id"])
    assert not seen & set(run.recommend(users=user, k=50)["item_id"])  # one id, as rank.users=ID
    assert seen & set(run.recommend(users=[user], k=50, exclude_seen=False)["item_id"])


def test_vectors_come_with_their_ids(run: Run) -> None:
    interests = load_file(str(run.path / "capture" / "interests.safetensors"))
    users, items = run.user_vectors(), run.item_vectors()
    assert users.ids == pd.read_parquet(run.path / "prepare" / "users.parquet")["user_id"].astype(str).tolist()
    assert torch.equal(users.vectors, interests["users"]) and users.vectors.shape == (300, 16)
    assert items.ids == pd.read_parquet(run.path / "prepare" / "items.parquet")["item_id"].astype(str).tolist()
    assert torch.equal(items.vectors, interests["items"][1:])  # row 0 of the model's table is padding


def test_capture_of_a_dataframe_is_dynrec_capture_of_its_file(cli, run: Run, tmp_path: Path) -> None:
    events = _new_events(run)
    events.to_csv(tmp_path / "events.csv", index=False)
    by_cli = cli("capture", f"run_dir={run.path}", f"capture.events={tmp_path / 'events.csv'}", f"capture.store={tmp_path / 'cli'}")
    assert by_cli.exit_code == 0, by_cli.output
    assert run.capture(events, f"capture.store={tmp_path / 'api'}") is run
    state = {name: load_file(str(next((tmp_path / name).glob("gen-*")) / "state.safetensors")) for name in ("cli", "api")}
    for key in state["cli"]:
        torch.testing.assert_close(state["api"][key], state["cli"][key])
    store = [f"capture.store={tmp_path / 'api'}"]
    assert set(run.recommend(users=["new-user"], k=3, overrides=store)["user_id"]) == {"new-user"}
    generations = sorted(p.name for p in (tmp_path / "api").glob("gen-*"))
    run.capture(events, *store)  # the same DataFrame again: already applied, the store is unchanged
    assert sorted(p.name for p in (tmp_path / "api").glob("gen-*")) == generations


def test_api_errors_carry_the_cli_line_and_exit_code(cli, run: Run, tmp_path: Path) -> None:
    with pytest.raises(dynrec_cli.ConfigError) as typo:
        dynrec_cli.train("model.hiden=3", run_dir=tmp_path / "never")
    assert typo.value.exit_code == 2 and f"error: {typo.value}" in " ".join(cli("train", "model.hiden=3").output.split())
    assert not (tmp_path / "never").exists()
    with pytest.raises(dynrec_cli.ArtifactError, match="no trained run"):
        Run.open(tmp_path)
    dynrec_cli.prepare(run_dir=tmp_path / "prepared")
    with pytest.raises(dynrec_cli.ArtifactError, match="no finished finetune stage"):
        Run.open(tmp_path / "prepared")
    with pytest.raises(dynrec_cli.ConfigError, match="rank.users: unknown user id"):
        run.recommend(users=["no-such-user"])
    with pytest.raises(dynrec_cli.ConfigError) as refused:
        run.add_items(pd.DataFrame({"item_id": ["new-film"], "text": ["A film"]}), f"capture.store={tmp_path / 's'}")
    assert refused.value.exit_code == 2 and "cannot rank items it never saw" in str(refused.value)


def test_gates_raise_gate_failed_with_exit_code_1(run: Run) -> None:
    assert run.metrics["test/ndcg@10"] > 0
    assert dynrec_cli.evaluate(run_dir=run.path, fail_under={"test/ndcg@10": run.metrics["test/ndcg@10"]}).metrics == run.metrics
    with pytest.raises(dynrec_cli.ConfigError, match="could never fail"):  # a floor that decides nothing, as on the CLI
        dynrec_cli.evaluate(run_dir=run.path, fail_under={"test/ndcg@10": 0.0})
    with pytest.raises(dynrec_cli.GateFailed) as failed:
        dynrec_cli.evaluate(run_dir=run.path, fail_under={"test/ndcg@10": 0.99})
    assert failed.value.exit_code == 1 and failed.value.failures == [f"test/ndcg@10 = {run.metrics['test/ndcg@10']:.4f} < 0.99"]
    assert failed.value.metrics == run.metrics
    # against itself as the baseline nothing dropped
    assert dynrec_cli.evaluate(run_dir=run.path, baseline=run.path, max_drop={"test/ndcg@10": "5%"}).path == run.path
    with pytest.raises(dynrec_cli.ConfigError, match="--fail-under test/ndcg@7"):
        dynrec_cli.evaluate(run_dir=run.path, fail_under={"test/ndcg@7": 0.1})


def test_capture_is_the_api_function_of_the_capture_verb(run: Run) -> None:
    assert capture(run_dir=run.path).path == run.path  # up to date: every stage skipped
    assert callable(dynrec_cli.api.capture) and not callable(dynrec_cli.capture)  # dynrec_cli.capture is the package


def test_sweep_runs_every_job_and_writes_the_summary(tmp_path: Path) -> None:
    # a subprocess: Hydra's @hydra.main sets up logging for the whole process
    code = ("import dynrec_cli\n"
            f"print(dynrec_cli.sweep('model=pop', 'seed=0,1', 'eval.report=false', run_dir={str(tmp_path / 's')!r}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str(tmp_path / "s")
    assert (tmp_path / "s" / "sweep_summary.csv").exists()
    assert all(Run.open(tmp_path / "s" / job).metrics["test/users"] == 300 for job in ("0", "1"))


def test_importing_dynrec_cli_is_cheap() -> None:
    code = "import sys, dynrec_cli; dynrec_cli.Run; print(sorted(m for m in ('torch', 'pandas', 'hydra') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"
