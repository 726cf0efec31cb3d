"""`prepare` on synthetic logs of 1M and 10M events: wall time and peak RSS (not in --quick).

The logs come from `make_large_log.py` (string user ids, int item ids, unix times, a catalogue)
and are written under benchmarks/results/large-logs/ (ignored by git; made once, then reused).
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks.common import RESULTS, markdown_table, read_json, run_dynrec

LOGS = RESULTS / "large-logs"
SIZES = ((1_000_000, "csv"), (10_000_000, "csv"), (10_000_000, "parquet"))
GIB = 8.0  # the ceiling for a 10M-event prepare


def _log(events: int, fmt: str) -> tuple[str, str]:
    folder = LOGS / f"{events // 1_000_000}m-{fmt}"
    if not (folder / f"items.{fmt}").exists():
        subprocess.run([sys.executable, str(RESULTS.parent / "make_large_log.py"), "--events", str(events),
                        "--format", fmt, "--out", str(folder)], check=True)
    return str(folder / f"events.{fmt}"), str(folder / f"items.{fmt}")


def run(quick: bool) -> tuple[str, dict]:
    rows, payload = [], {}
    for events, fmt in SIZES:
        log, items = _log(events, fmt)
        run_dir = RESULTS / "runs" / f"large-{events // 1_000_000}m-{fmt}"
        child = run_dynrec("prepare", f"run_dir={run_dir}", "--force", "data=csv",
                           f"data.interactions={log}", f"data.items={items}")
        stats = read_json(run_dir / "prepare" / "stats.json")
        key = f"{events // 1_000_000}M {fmt}"
        payload[key] = {"events": events, "format": fmt, "seconds": round(child.seconds, 1),
                        "peak_rss_mib": round(child.peak_rss_mib), "kept_events": stats["events"],
                        "users": stats["users"], "items": stats["items"]}
        rows.append([key, f"{stats['events']:,}", f"{stats['users']:,}", f"{stats['items']:,}",
                     round(child.seconds, 1), f"{events / child.seconds:,.0f}", f"{child.peak_rss_mib:,.0f}",
                     "yes" if child.peak_rss_mib < GIB * 1024 else "NO"])
    header = ["log", "events kept", "users", "items", "prepare s", "events/s", "peak RSS MiB", f"< {GIB:g} GiB"]
    return markdown_table(header, rows), payload
