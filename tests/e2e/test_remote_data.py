"""data.* given as URLs, read through fsspec: memory:// in the CLI's own process, http:// from a
loopback server in a child `dynrec train`; the manifest hashes their content, errors name the URL."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import fsspec
import pandas as pd
import pytest

from tests.conftest import REPO, SAMPLE

pytestmark = pytest.mark.slow
CSV = ["data=csv", "data.columns.user=userId", "data.columns.item=movieId", "data.columns.rating=rating",
       "data.item_id_column=movieId", "data.min_rating=4"]


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def bucket() -> Iterator[str]:
    """memory://<unique>/ holding the sample's files."""
    memory = fsspec.filesystem("memory")
    root = f"/bucket-{os.getpid()}-{id(memory)}"
    for path in SAMPLE.iterdir():
        memory.pipe(f"{root}/{path.name}", path.read_bytes())
    yield f"memory:/{root}"
    memory.rm(root, recursive=True)


def _manifest(run: Path) -> dict:
    return json.loads((run / "prepare" / "manifest.json").read_text())


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_memory_url_prepares_as_the_local_file_does(cli, tmp_path: Path, bucket: str) -> None:
    urls = [f"data.interactions={bucket}/ratings.csv", f"data.items={bucket}/movies.csv"]
    local = [f"data.interactions={SAMPLE / 'ratings.csv'}", f"data.items={SAMPLE / 'movies.csv'}"]
    for name, paths in (("url", urls), ("local", local)):
        result = cli("prepare", f"run_dir={tmp_path / name}", *CSV, *paths)
        assert result.exit_code == 0, result.output
    assert _manifest(tmp_path / "url")["inputs"] == {f"{bucket}/ratings.csv": _sha(SAMPLE / "ratings.csv"),
                                                     f"{bucket}/movies.csv": _sha(SAMPLE / "movies.csv")}
    for table in ("events.parquet", "items.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "url" / "prepare" / table),
                                      pd.read_parquet(tmp_path / "local" / "prepare" / table))
    again = cli("prepare", f"run_dir={tmp_path / 'url'}", *CSV, *urls)
    assert "[prepare] up to date, skipped" in again.output
    memory = fsspec.filesystem("memory")  # the remote log changes: its hash does, and prepare runs again
    memory.pipe(f"{bucket.removeprefix('memory:/')}/ratings.csv", (SAMPLE / "ratings.csv").read_bytes() + b"2,50,5.0,900000000\n")
    changed = cli("prepare", f"run_dir={tmp_path / 'url'}", *CSV, *urls)
    assert changed.exit_code == 0 and "[prepare] running" in changed.output


def test_a_folder_url_reads_a_preset(cli, tmp_path: Path, bucket: str) -> None:
    result = cli("prepare", f"run_dir={tmp_path / 'run'}", "data=movielens", f"data.path={bucket}")
    assert result.exit_code == 0, result.output
    assert set(_manifest(tmp_path / "run")["inputs"]) == {f"{bucket}/{p.name}" for p in SAMPLE.iterdir()}
    local = cli("prepare", f"run_dir={tmp_path / 'local'}", "data=movielens", f"data.path={SAMPLE}")
    assert local.exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "run" / "prepare" / "events.parquet"),
                                  pd.read_parquet(tmp_path / "local" / "prepare" / "events.parquet"))


def test_bad_input_at_a_url_names_the_url(cli, tmp_path: Path, bucket: str) -> None:
    memory = fsspec.filesystem("memory")
    memory.pipe(f"{bucket.removeprefix('memory:/')}/bad.csv", b"userId,movieId,rating,timestamp\n1,2,4.0,100\n1,3,x,101\n")
    no_catalogue = [o for o in CSV if not o.startswith("data.item_id_column=")]  # read only with data.items
    result = cli("prepare", f"run_dir={tmp_path / 'bad'}", *no_catalogue, f"data.interactions={bucket}/bad.csv")
    assert result.exit_code == 2
    assert f"{bucket}/bad.csv, row" in result.output and "column 'rating'" in result.output
    assert "dynrec-remote-" not in result.output  # not the local copy's path
    missing = cli("prepare", f"run_dir={tmp_path / 'missing'}", *no_catalogue, f"data.interactions={bucket}/nope.csv")
    assert missing.exit_code == 2 and f"{bucket}/nope.csv: not found (check data.interactions)" in missing.output
    assert not (tmp_path / "missing").exists()


def test_a_scheme_without_its_filesystem_names_the_extra(cli, tmp_path: Path) -> None:
    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed here")
    result = cli("train", f"run_dir={tmp_path / 'r'}", "data=csv", "data.interactions=s3://bucket/log.parquet")
    assert result.exit_code == 2
    assert result.output.strip() == "error: data.interactions=s3://bucket/log.parquet: reading s3:// needs s3fs: pip install 'dynrec[s3]'"
    assert not (tmp_path / "r").exists()


def test_http_urls_train_end_to_end_in_a_child_process(tmp_path: Path) -> None:
    pytest.importorskip("aiohttp")  # fsspec's HTTP filesystem (extra `http`)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietFiles, directory=str(SAMPLE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        run = tmp_path / "run"
        done = subprocess.run(
            [sys.executable, "-m", "dynrec_cli", "train", f"run_dir={run}", "model=pop", *CSV,
             f"data.interactions={base}/ratings.csv", f"data.items={base}/movies.csv", "eval.report=false"],
            cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _manifest(run)["inputs"] == {f"{base}/ratings.csv": _sha(SAMPLE / "ratings.csv"), f"{base}/movies.csv": _sha(SAMPLE / "movies.csv")}
    assert json.loads((run / "metrics.json").read_text())["test/ndcg@10"] > 0
