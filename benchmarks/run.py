"""`make bench`: quality and cost tables on ../shared/datasets, printed and written to benchmarks/results/.

    python benchmarks/run.py [--quick] [--only baselines]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (baselines, cli_latency, encoding, kcore, large, quality, ranking, serve_load,  # noqa: E402
                        sweep_launchers, text_models, throughput)
from benchmarks.common import DATASETS, write_results  # noqa: E402

SUITES = {
    "baselines": baselines.run, "text_models": text_models.run, "ranking": ranking.run,
    "throughput": throughput.run, "encoding": encoding.run, "large": large.run, "sweep_launchers": sweep_launchers.run,
    "cli": cli_latency.run, "quality": quality.run, "serve_load": serve_load.run, "kcore": kcore.run,
}
# large: generates and prepares 10M-event logs; quality: issue #16's table, every row × 3 data sets
# × 3 seeds, hours on 2 cores; kcore: 20 trainings of SASRec on one thread. Not CI checks; named
# with --only, each runs with --quick too.
NOT_QUICK = {"large", "quality", "kcore"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few epochs and seeds: minutes, not an hour")
    parser.add_argument("--only", choices=sorted(SUITES), nargs="+", action="extend",
                        help="run only these suites (e.g. --only baselines encoding; repeatable)")
    parser.add_argument("--parts", nargs="+", default=["ml-100k", "scientific", "cold"],
                        help="text_models: which data sets / the cold protocol (split a long run over processes)")
    args = parser.parse_args()
    if not DATASETS.is_dir():
        sys.exit(f"{DATASETS}: the shared data sets are not there; benchmarks read them from that path")
    for name in args.only or [s for s in SUITES if not (args.quick and s in NOT_QUICK)]:
        markdown, payload = SUITES[name](args.quick, tuple(args.parts)) if name == "text_models" else SUITES[name](args.quick)
        path = write_results(name + ("-quick" if args.quick else ""), markdown, payload)
        print(f"\n## {name}\n\n{markdown}\nwritten to {path}")


if __name__ == "__main__":
    main()
