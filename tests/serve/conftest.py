"""The real `dynrec serve` in a subprocess on a free loopback port, and the tiny runs it serves.

`sample_run`: a tiny SASRec on a copy of the shipped sample where one user's id is made unique
(TRAINED_USER), so that a byte search of the run folder for it means what it says.
`text_run`: a tiny text-only DynRec (encoder=tiny), for POST /items and explanations.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import REPO, SAMPLE, TINY_SASREC, run_from_repo

TRAINED_USER = "zq7trained9user"  # user 2 of the sample, renamed: no other string in a run contains it
TOKEN = "t0ken-for-tests"
TINY_TEXT = ["model=dynrec", "encoder=tiny", "adapter=linear", "model.item_id=false", "model.hidden=16", "model.layers=1",
             "model.heads=1", "model.max_len=20", "trainer=tiny", "trainer.batch_size=256", "data.max_seq_len=40"]


@pytest.fixture(scope="session")
def sample_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "ml"
    shutil.copytree(SAMPLE, folder)
    ratings = pd.read_csv(folder / "ratings.csv", dtype=str)
    ratings.loc[ratings["userId"] == "2", "userId"] = TRAINED_USER
    ratings.to_csv(folder / "ratings.csv", index=False)
    return folder


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory, sample_copy: Path) -> Path:
    """A trained tiny SASRec (up to finetune: what serve reads), no interest store yet: serve copies of it."""
    run = tmp_path_factory.mktemp("runs") / "sasrec"
    run_from_repo("finetune", f"run_dir={run}", f"data.path={sample_copy}", *TINY_SASREC)
    return run


@pytest.fixture(scope="session")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    run_from_repo("finetune", f"run_dir={root / 'text'}", f"encoder.cache_dir={root / 'cache'}", *TINY_TEXT)
    return root / "text"


def copy_run(run: Path, target: Path) -> Path:
    shutil.copytree(run, target)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Server:
    """A running `dynrec serve`; `log()` is what it wrote on stderr so far."""

    proc: subprocess.Popen
    port: int
    log_path: Path
    token: str | None = None
    started: float = field(default_factory=time.monotonic)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None, auth: bool = True, timeout: float = 60) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = {"Content-Type": "application/json", **(headers or {})}
        if auth and self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        try:
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        text = data.decode()
        parsed = json.loads(text) if response.getheader("content-type", "").startswith("application/json") else text
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, parsed)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM (a clean stop: the store is committed); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


def dynrec_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dynrec_cli", *args]


def start_server(run: Path, *overrides: str, token: str | None = None, log_path: Path | None = None) -> Server:
    """`dynrec serve run_dir=RUN` on a free port; returns once /health answers."""
    port = free_port()
    log_path = log_path or run.parent / f"serve-{port}.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "200"}
    env.pop("DYNREC_SERVE_TOKEN", None)
    args = [f"run_dir={run}", f"serve.port={port}", "serve.workers=2", *overrides] + ([f"serve.token={token}"] if token else [])
    with open(log_path, "w") as log:
        proc = subprocess.Popen(dynrec_command("serve", *args), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(proc, port, log_path, token)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dynrec serve exited with {proc.returncode}:\n{server.log()}")
        try:
            if server.get("/health", timeout=5).status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill9()
    raise AssertionError(f"dynrec serve did not answer /health:\n{server.log()}")

