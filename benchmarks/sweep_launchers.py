"""A 4-job sweep on the shipped sample, one job at a time (Hydra's basic launcher) against two at a
time (the joblib launcher): wall time and the figures of each job.

    python benchmarks/sweep_launchers.py [--repeats 2] [--jobs 2]

The sweep is issue #14's: `dynrec train -m model=sasrec model.hidden=8,16 seed=0,1 trainer=tiny
trainer.threads=1`, with `hydra/launcher=joblib hydra.launcher.n_jobs=2` for the parallel one. The
two run alternately (basic, joblib, basic, joblib, ...) so that a change in the machine's load
falls on both; each into a fresh folder, so no stage is skipped. Target on a 2-core machine:
joblib / basic <= 0.75.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, markdown_table, run_dynrec, write_results  # noqa: E402

SWEEP = ["-m", "model=sasrec", "model.hidden=8,16", "seed=0,1", "trainer=tiny", "trainer.threads=1"]


def _sweep(run_dir: Path, launcher: list[str]) -> tuple[float, dict[str, dict]]:
    """Wall seconds of the sweep, and each job's metrics.json."""
    shutil.rmtree(run_dir, ignore_errors=True)
    child = run_dynrec("train", *SWEEP, *launcher, f"run_dir={run_dir}")
    jobs = sorted(p for p in run_dir.iterdir() if (p / "metrics.json").exists())
    return child.seconds, {job.name: json.loads((job / "metrics.json").read_text()) for job in jobs}


def run(quick: bool, repeats: int = 2, n_jobs: int = 2) -> tuple[str, dict]:
    launchers = {"basic (one at a time)": [], f"joblib (n_jobs={n_jobs})": ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={n_jobs}"]}
    seconds: dict[str, list[float]] = {name: [] for name in launchers}
    figures: dict[str, dict] = {}
    for repeat in range(1 if quick else repeats):
        for name, launcher in launchers.items():
            wall, jobs = _sweep(RESULTS / "runs" / f"sweep-{name.split()[0]}", launcher)
            seconds[name].append(round(wall, 1))
            assert len(jobs) == 4, f"{name}: {len(jobs)} jobs wrote metrics"
            figures.setdefault(name, jobs)
            print(f"repeat {repeat + 1}: {name}: {wall:.1f} s", flush=True)
    basic, joblib = (figures[name] for name in launchers)
    same = all(basic[job] == joblib[job] for job in basic)
    base = statistics.mean(seconds[next(iter(launchers))])
    rows = [[name, " / ".join(f"{s:.1f}" for s in runs), statistics.mean(runs), statistics.mean(runs) / base]
            for name, runs in seconds.items()]
    table = markdown_table(["launcher", "wall s (each repeat)", "mean wall s", "× basic"], rows)
    text = (f"`dynrec train {' '.join(SWEEP)}` on data/samples (4 jobs); the joblib row adds "
            f"`hydra/launcher=joblib hydra.launcher.n_jobs={n_jobs}`.\n\n{table}\n"
            f"Figures of every job identical between the launchers: {'yes' if same else 'NO'}.\n")
    return text, {"seconds": seconds, "same_figures": same, "jobs": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2, help="hydra.launcher.n_jobs")
    args = parser.parse_args()
    text, payload = run(False, args.repeats, args.jobs)
    path = write_results("sweep_launchers", text, payload)
    print(f"\n{text}\nwritten to {path}")


if __name__ == "__main__":
    main()
