"""Load test of `dynrec serve` on loopback: reads at 1, 8 and 32 clients, writes in batches of 1 and 100.

    python benchmarks/serve_load.py [--seconds 10] [--data sample ml-100k]
    python benchmarks/run.py --only serve_load [--quick]      # --quick: 3 s per row

For each data set: train a SASRec (a few epochs: the speed of serving does not depend on how well it
ranks), time `dynrec capture` on 2,000 new events (events/s of the batched path, per-event latency of
the single-event path: `capture.latency_probe`), then start the real server and, each for a fixed
time, send `GET /recommendations/{random user}?k=10` from 1, 8 and 32 client threads (keep-alive
connections), and `POST /events` in batches of 1 (1 and 8 clients) and 100 (1 client). Clients and
server share the machine's cores: on a 2-core machine the figures are what one box does for both.
Every request loop is bounded in time and count and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DATASETS, REPO, RESULTS, markdown_table, read_json, run_dynrec, write_results  # noqa: E402

DATA = {"sample": ["data=sample"], "ml-100k": ["data=recbole", f"data.path={DATASETS / 'ml-100k'}"]}
MODEL = ["model=sasrec", "trainer.epochs=3"]
CAPTURE_EVENTS = 2000
MAX_REQUESTS = 200_000  # per measurement, whatever the time: every loop is bounded twice


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: Any = None) -> int:
        payload = json.dumps(body).encode() if body is not None else None
        self.connection.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = self.connection.getresponse()
        response.read()
        return response.status


def load(port: int, clients: int, seconds: float, request: Any) -> dict[str, float]:
    """`clients` threads calling `request(client, rng)` for `seconds`; requests/s and latency percentiles (ms)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    stop = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        client, rng = Client(port), random.Random(slot)
        while time.perf_counter() < stop and len(latencies[slot]) < MAX_REQUESTS // clients:
            started = time.perf_counter()
            status = request(client, rng)
            latencies[slot].append(time.perf_counter() - started)
            failures[slot] += status != 200

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ms = np.concatenate([np.asarray(x) for x in latencies]) * 1000.0
    return {"requests": len(ms), "per_s": len(ms) / elapsed, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "failed": int(sum(failures))}


SERVER_SIDE = {  # /metrics series whose mean (sum / count over a row) says where the time went
    "server_ms": 'dynrec_request_seconds_{}{{method="{method}",route="{route}"}}',
    "fsync_ms": "dynrec_journal_write_seconds_{}",
    "apply_ms": "dynrec_batch_apply_seconds_{}",
}


def scrape(port: int) -> dict[str, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    return {parts[0]: float(parts[1]) for parts in (line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))}


def server_means(before: dict[str, float], after: dict[str, float], method: str, route: str) -> dict[str, float]:
    """Mean milliseconds inside the server over one row: request handling, journal fsync, batch apply."""
    out = {}
    for name, series in SERVER_SIDE.items():
        total, count = (series.format(kind, method=method, route=route) for kind in ("sum", "count"))
        calls = after.get(count, 0.0) - before.get(count, 0.0)
        out[name] = 1000.0 * (after.get(total, 0.0) - before.get(total, 0.0)) / calls if calls else float("nan")
    return out


def train(name: str) -> Path:
    run = RESULTS / "runs" / f"serve-{name}"
    shutil.rmtree(run / "store", ignore_errors=True)
    run_dynrec("train", f"run_dir={run}", *DATA[name], *MODEL, "trainer.threads=2")
    return run


def capture_figures(run: Path, scratch: Path) -> dict[str, float]:
    """`dynrec capture` of CAPTURE_EVENTS new events on a copy of the run: its own per-event figures."""
    copy = scratch / "capture-run"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("store"))
    events, users, items = (pd.read_parquet(run / "prepare" / f"{t}.parquet") for t in ("events", "users", "items"))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"user_id": rng.choice(users["user_id"].astype(str), CAPTURE_EVENTS),
                          "item_id": rng.choice(items["item_id"].astype(str), CAPTURE_EVENTS),
                          "timestamp": int(events["time"].max()) + 1 + np.arange(CAPTURE_EVENTS)})
    frame.to_csv(scratch / "events.csv", index=False)
    run_dynrec("capture", f"run_dir={copy}", f"capture.events={scratch / 'events.csv'}", f"capture.latency_probe={CAPTURE_EVENTS}",
               "trainer.threads=1")
    figures = read_json(copy / "store" / "captures" / "001" / "manifest.json")["figures"]
    return {k: figures[k] for k in ("events_per_s", "latency_ms_median", "latency_ms_p99")}


def serve(run: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "160"}
    args = [sys.executable, "-m", "dynrec_cli", "serve", f"run_dir={run}", f"serve.port={port}", "serve.access_log=false",
            "trainer.threads=1", "serve.workers=2"]
    with open(log, "w") as out:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"dynrec serve exited:\n{log.read_text()[-3000:]}")
        try:
            if Client(port).call("GET", "/health") == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    sys.exit("dynrec serve did not start")


def measure(name: str, seconds: float) -> dict[str, Any]:
    run = train(name)
    scratch = RESULTS / "runs" / f"serve-{name}-scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    capture = capture_figures(run, scratch)
    users = pd.read_parquet(run / "prepare" / "users.parquet")["user_id"].astype(str).tolist()
    items = pd.read_parquet(run / "prepare" / "items.parquet")["item_id"].astype(str).tolist()
    port = free_port()
    proc = serve(run, port, scratch / "serve.log")
    reads, writes, load_before = {}, {}, os.getloadavg()[0]
    try:
        load(port, 4, 2.0, lambda c, r: c.call("GET", f"/recommendations/{r.choice(users)}?k=10"))  # warm-up
        for clients in (1, 8, 32):
            before = scrape(port)
            reads[clients] = load(port, clients, seconds, lambda c, r: c.call("GET", f"/recommendations/{r.choice(users)}?k=10"))
            reads[clients].update(server_means(before, scrape(port), "GET", "/recommendations/{user_id}"))
        for label, clients, size in (("1 × 1", 1, 1), ("1 × 8 clients", 8, 1), ("100 × 1", 1, 100)):
            batch = lambda c, r, size=size: c.call("POST", "/events", [{"user_id": r.choice(users), "item_id": r.choice(items)}  # noqa: E731
                                                                       for _ in range(size)])
            before = scrape(port)
            figures = load(port, clients, seconds, batch)
            figures.update(server_means(before, scrape(port), "POST", "/events"), events_per_s=figures["per_s"] * size)
            writes[label] = figures
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    return {"users": len(users), "items": len(items), "capture": capture, "reads": reads, "writes": writes,
            "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)]}


def report(results: dict[str, dict[str, Any]], seconds: float) -> str:
    rows = []
    for name, r in results.items():
        for clients, f in r["reads"].items():
            rows.append([name, f"GET /recommendations k=10, {clients} client{'s' if clients > 1 else ''}", round(f["per_s"]),
                         f["p50_ms"], f["p99_ms"], f["failed"], "", f["server_ms"], "", ""])
        for label, f in r["writes"].items():
            size, _, who = label.partition(" × ")
            rows.append([name, f"POST /events, batches of {size}, {who if 'clients' in who else '1 client'}", round(f["per_s"]),
                         f["p50_ms"], f["p99_ms"], f["failed"], round(f["events_per_s"]), f["server_ms"], f["fsync_ms"], f["apply_ms"]])
        c = r["capture"]
        rows.append([name, "dynrec capture (same run, 2,000 events): batched / single-event path", "", c["latency_ms_median"],
                     c["latency_ms_p99"], "", round(c["events_per_s"]), "", "", ""])
    header = ["data", "what", "requests/s", "p50 ms", "p99 ms", "failed", "events/s", "in server ms", "fsync ms", "apply ms"]
    facts = ", ".join(f"{n}: {r['users']:,} users, {r['items']:,} items, load average {r['load_average'][0]} → "
                      f"{r['load_average'][1]}" for n, r in results.items())
    return (f"Loopback, {os.cpu_count()} cores, model=sasrec, {seconds:g} s per row, serve.workers=2, trainer.threads=1 "
            f"({facts}). capture's p50/p99 are its per-event latency on the single-event path (capture.latency_probe). "
            "`in server ms`, `fsync ms`, `apply ms`: means from the server's /metrics over the row (request handling, "
            "the journal's append + fsync per group, applying one batch).\n\n"
            + markdown_table(header, rows))


def run(quick: bool) -> tuple[str, dict[str, Any]]:
    """`benchmarks/run.py --only serve_load`."""
    seconds = 3.0 if quick else 10.0
    results = {name: measure(name, seconds) for name in DATA}
    return report(results, seconds), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    parser.add_argument("--data", nargs="+", choices=sorted(DATA), default=list(DATA))
    args = parser.parse_args()
    if not DATASETS.is_dir():
        sys.exit(f"{DATASETS}: the shared data sets are not there")
    results = {name: measure(name, args.seconds) for name in args.data}
    markdown = report(results, args.seconds)
    path = write_results("serve_load", markdown, results)
    print(markdown + f"\nwritten to {path}")


if __name__ == "__main__":
    main()
