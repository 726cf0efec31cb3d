"""Sweeps: a 4-job grid ends with its summary table, typos stop it before any job, Optuna optimises."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
# one quick epoch of a very small SASRec; no report, to keep four jobs cheap
QUICK = ["model=sasrec", "model.layers=1", "model.heads=1", "model.max_len=20", "trainer=tiny", "trainer.epochs=1",
         "trainer.batch_size=256", "data.max_seq_len=20", "eval.ks=[10]", "eval.report=false"]


def _dynrec(*args: str, **env_vars: str) -> subprocess.CompletedProcess:
    # a subprocess: Hydra's real @hydra.main reconfigures logging for the whole process
    env = {**os.environ, "COLUMNS": "200", "OMP_NUM_THREADS": "1", **env_vars}
    return subprocess.run([sys.executable, "-m", "dynrec_cli", *args], cwd=REPO, capture_output=True, text=True, timeout=600, env=env)


def _summary(sweep: Path) -> list[dict[str, str]]:
    with open(sweep / "sweep_summary.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_grid_sweep_prints_and_writes_its_summary(tmp_path: Path) -> None:
    sweep = tmp_path / "grid"
    done = _dynrec("train", "-m", "model.hidden=8,16", "trainer.optimizer.lr=1e-3,3e-3", f"run_dir={sweep}", *QUICK)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "sorted by valid/ndcg@10" in done.stdout
    rows = _summary(sweep)
    assert len(rows) == 4 and sorted(r["job"] for r in rows) == ["0", "1", "2", "3"]
    values = [float(r["valid/ndcg@10"]) for r in rows]
    assert values == sorted(values, reverse=True)
    for row in rows:  # the varying overrides, and the job's figure as its own metrics.json says
        metrics = json.loads((sweep / row["job"] / "metrics.json").read_text())
        assert float(row["valid/ndcg@10"]) == pytest.approx(metrics["valid/ndcg@10"], abs=1e-4)
        assert "model.hidden=" in row["overrides"] and "trainer.optimizer.lr=" in row["overrides"]
        assert f"model.hidden={json.loads((sweep / row['job'] / 'config.json').read_text())['model']['hidden']}" in row["overrides"]
    assert (sweep / "sweep_summary.md").exists()
    assert "model.hidden=8" in json.loads((sweep / "0" / "overrides.json").read_text())  # later verbs reuse it


def test_sweep_typo_stops_before_any_job(cli, tmp_path: Path) -> None:
    sweep = tmp_path / "typo"
    result = cli("train", "-m", "model=sasrec,gru4rc", f"run_dir={sweep}")
    assert result.exit_code == 2 and "gru4rec" in result.output
    result = cli("train", "-m", "model.hiden=8,16", f"run_dir={sweep}")
    assert result.exit_code == 2 and "model.hidden" in result.output
    assert not sweep.exists()


@pytest.mark.skipif(importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is None, reason="extra `sweep` not installed")
def test_optuna_search_of_four_trials(tmp_path: Path) -> None:
    import yaml

    sweep = tmp_path / "optuna"
    done = _dynrec("train", "hparams_search=optuna", "hydra.sweeper.n_trials=4", "model.hidden=8", f"run_dir={sweep}", *QUICK)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = _summary(sweep)
    assert len(rows) == 4
    # Optuna saw the objective each job returned: its best value is the summary's top row
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())["best_value"]
    assert best == pytest.approx(float(rows[0]["valid/ndcg@10"]), abs=1e-4)
    assert "trainer.optimizer.lr=" in rows[0]["overrides"]


def test_submitit_launcher_composes() -> None:
    if importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is None:
        pytest.skip("hydra-submitit-launcher (extra `slurm`) not installed")
    from dynrec_cli.cli._hydra import compose_config

    compose_config("train", ["hydra/launcher=submitit_slurm", "hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=1"])


@pytest.mark.parametrize("launcher", [[], ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]], ids=["basic", "joblib"])
def test_jobs_refused_for_bad_input_say_one_line_each_and_exit_2(tmp_path: Path, launcher: list[str]) -> None:
    done = _dynrec("train", "-m", "model=pop", f"data.path={tmp_path / 'missing'}", "seed=1,2", f"run_dir={tmp_path / 'sweep'}",
                   *launcher)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "2 job(s) of the sweep refused" in output
    assert output.count("is not a folder") >= 2  # each job's own line
    assert not (tmp_path / "sweep" / ".refused").exists()
    if launcher:  # each worker process runs its job on its share of the cores
        assert len(re.findall(r"job \d: \d+ torch thread\(s\) of \d+ cores", output)) == 2, output


def test_joblib_runs_the_jobs_two_at_a_time_with_the_sequential_figures(tmp_path: Path) -> None:
    grid = ["model.hidden=8,16", "seed=0,1", "trainer.threads=1", *QUICK]
    sequential = _dynrec("train", "-m", *grid, f"run_dir={tmp_path / 'one'}")
    assert sequential.returncode == 0, sequential.stdout[-3000:] + sequential.stderr[-3000:]
    # two GPUs named on a machine without any: each job is pinned to one (torch then finds no CUDA and uses the CPU)
    parallel = _dynrec("train", "-m", *grid, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"run_dir={tmp_path / 'two'}",
                       CUDA_VISIBLE_DEVICES="0,1", TMPDIR=str(tmp_path))
    output = parallel.stdout + parallel.stderr
    assert parallel.returncode == 0, output[-6000:]
    assert "Joblib.Parallel(n_jobs=2" in output and "job 0: GPU 0" in output and "job 1: GPU 1" in output
    for job in ("0", "1", "2", "3"):
        one, two = (json.loads((tmp_path / run / job / "metrics.json").read_text()) for run in ("one", "two"))
        assert one == two, job
        assert json.loads((tmp_path / "two" / job / "overrides.json").read_text()) == \
            json.loads((tmp_path / "one" / job / "overrides.json").read_text())
    assert _summary(tmp_path / "two") == _summary(tmp_path / "one")  # the same table, in the same order
    assert "sorted by valid/ndcg@10" in parallel.stdout


# a value refused by the parent's check, and a class name that matches the allowlist's pattern but is
# not installed: imported and refused by a warm worker (joblib), or by the parent (basic)
REFUSED = {
    "value": (["model=pop", "trainer.epochs=1,0"], "trainer.epochs=0"),
    "class": (["model=sasrec", "trainer.optimizer._target_=torch.optim.Adam,torch.optim.NoSuchOptimiser"],
              "trainer.optimizer._target_='torch.optim.NoSuchOptimiser' is not a torch.optim optimiser class (no such class is installed)"),
}


@pytest.mark.parametrize("launcher", [["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], []], ids=["joblib", "basic"])
@pytest.mark.parametrize("refused", REFUSED, ids=list(REFUSED))
def test_a_grid_value_refused_after_the_workers_started_stops_them_and_writes_nothing(
        tmp_path: Path, refused: str, launcher: list[str]) -> None:
    # the joblib workers start once the first job composes; the second value of the grid is refused
    grid, message = REFUSED[refused]
    done = _dynrec("train", "-m", *grid, *launcher, f"run_dir={tmp_path / 'sweep'}")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert message in output and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1, output
    assert not (tmp_path / "sweep").exists()


def test_a_launcher_plugin_not_installed_names_its_extra(cli, tmp_path: Path) -> None:
    if importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None:
        pytest.skip("the Ray launcher is installed here")
    for args in (["-m", "seed=1,2"], []):
        result = cli("train", *args, "hydra/launcher=ray", "model=pop", f"run_dir={tmp_path / 'r'}")
        assert result.exit_code == 2
        assert result.output.strip() == "error: hydra/launcher=ray needs Hydra's Ray launcher: pip install 'dynrec[ray]'"
    assert not (tmp_path / "r").exists()
