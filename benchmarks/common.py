"""What every benchmark script shares: run a dynrec command as a child, time it, read its peak RSS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# DYNREC_DATASETS points elsewhere (e.g. a copy carried to a GPU machine)
DATASETS = Path(os.environ.get("DYNREC_DATASETS", REPO.parent / "shared" / "datasets"))
BASELINES = REPO.parent / "shared" / "benchmarks"
RESULTS = REPO / "benchmarks" / "results"
REFERENCE = REPO / "benchmarks" / "reference"  # peers' figures we measured ourselves (committed)
CONFIGS = REPO / "configs"  # configs/experiment/*.yaml: the set-ups the tables run


def experiment(name: str) -> list[str]:
    """The arguments that select configs/experiment/NAME.yaml (its data paths honour DYNREC_DATASETS)."""
    return ["--config-dir", str(CONFIGS), f"+experiment={name}"]


@dataclass
class Child:
    seconds: float
    peak_rss_mib: float
    output: str


def run_dynrec(*args: str) -> Child:
    """Run `dynrec ARGS` in a child process; exits the benchmark if it fails."""
    return run_module("dynrec_cli", *args)


def run_module(module: str, *args: str, python: str = sys.executable) -> Child:
    """Run `python -m MODULE ARGS` from the repo root in a child process; exits the benchmark if it fails."""
    command = [python, "-m", module, *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "COLUMNS": "160",
           "DYNREC_DATASETS": str(DATASETS)}  # the experiments' data paths: the same folder as ours
    started = time.perf_counter()
    with subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        output = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed ({proc.returncode}): {' '.join(args)}\n{output[-3000:]}")
    return Child(seconds, usage.ru_maxrss / 1024, output)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def write_results(name: str, markdown: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(markdown)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return RESULTS / f"{name}.md"


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
