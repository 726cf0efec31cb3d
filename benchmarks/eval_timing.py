"""Time one full-ranking evaluation pass of a trained run, warm, in its own process.

    python -m benchmarks.eval_timing RUN_DIR [--repeats 5] [--precision fp32|bf16|...]

Prints JSON: the test split ranked over the whole catalogue with each user's history excluded
(the pass RecBole's `eval s` times), median and best seconds over the repeats after one warm-up,
users, users/s, and the NDCG@10 of the pass (a check that it ranked the same lists). The run's
`runtime.reuse_freed_memory` and `eval.precision` apply, as in `dynrec evaluate`; --precision and
--system-malloc override them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def main() -> None:
    import torch

    from dynrec_cli.data.sequences import split_views
    from dynrec_cli.data.store import load_prepared
    from dynrec_cli.evaluation.evaluator import evaluate_split
    from dynrec_cli.runtime import reuse_freed_memory
    from dynrec_cli.training.checkpoint import load_model
    from dynrec_cli.training.device import resolve_device, resolve_precision

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default=None, help="eval.precision to time (default: the run's)")
    parser.add_argument("--system-malloc", action="store_true", help="leave the C allocator at its defaults")
    args = parser.parse_args()
    config = json.loads((args.run_dir / "config.json").read_text())
    wanted = config.get("runtime", {}).get("reuse_freed_memory", True) and not args.system_malloc
    reused = bool(wanted) and reuse_freed_memory()
    device = resolve_device(args.device)
    precision = resolve_precision(args.precision or config["eval"].get("precision", "auto"), device, key="--precision")
    prepared = load_prepared(args.run_dir / "prepare")
    views = split_views(prepared.events, prepared.n_users)
    model = load_model(args.run_dir / "finetune").to(device)
    chunks = int(config["eval"]["user_chunk"]), int(config["eval"]["item_chunk"])
    max_len = getattr(model, "max_len", 1)

    def one_pass():
        result = evaluate_split(model, views.train_valid, views.test, views.train_valid, [10], max_len, *chunks, device, precision=precision)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return result

    one_pass()  # warm-up: kernels, allocator, caches
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = one_pass()
        seconds.append(time.perf_counter() - start)
    users = len(result.users)
    median = statistics.median(seconds)
    print(json.dumps({
        "eval_s": median, "eval_s_best": min(seconds), "users": users, "users_per_s": users / median,
        "items": int(prepared.n_items), "ndcg@10": float(result.per_user["ndcg@10"].mean()), "device": str(device),
        "precision": str(precision or torch.float32).removeprefix("torch."), "reuse_freed_memory": reused,
    }))


if __name__ == "__main__":
    main()
