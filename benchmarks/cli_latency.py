"""How fast the CLI answers when there is nothing to compute: --version, --help, and config errors.

    python benchmarks/run.py --only cli [--quick]

Each command runs REPEATS times in a fresh process from the repo root; the table gives the median
wall time and the median CPU time (user + sys of the child: what the wall time is on an idle
machine). A config error must be answered before torch, transformers or pandas are imported
(tests/cli/test_conventions.py checks that; this measures what it buys).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from benchmarks.common import REPO, markdown_table

COMMANDS = {
    "dynrec --version": ["--version"],
    "dynrec --help": ["--help"],
    "dynrec train model.hiden=3 (unknown key)": ["train", "model.hiden=3"],
    "dynrec train trainer.epochs=0 (bad value)": ["train", "trainer.epochs=0"],
    "dynrec train --print-config": ["train", "--print-config"],
}


def _time(args: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, exit code) of `python -m dynrec_cli ARGS`."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "dynrec_cli", *args], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def run(quick: bool) -> tuple[str, dict]:
    repeats = 3 if quick else 5
    rows, payload = [], {"repeats": repeats, "load_average_before": os.getloadavg()[0]}
    for name, args in COMMANDS.items():
        runs = [_time(args) for _ in range(repeats)]
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        rows.append([name, runs[0][2], wall, cpu])
        payload[name] = {"exit_code": runs[0][2], "wall_s": wall, "cpu_s": cpu}
    markdown = markdown_table(["command", "exit code", "median wall s", "median CPU s"], rows)
    return markdown + f"\n{repeats} runs each; 1-minute load average before: {payload['load_average_before']:.2f}\n", payload
