#!/usr/bin/env bash
# bash benchmarks/gpu.sh [OUT_DIR] — the GPU figures of issues #3 and #7 in one short run (~8 min on one H100).
# Needs a python3 with a CUDA build of torch and dynrec's dependencies, and the shared data sets
# (DYNREC_DATASETS, default ../shared/datasets). Writes gpu_check.md/.json and adapter_table.md/.json.
set -euo pipefail
out=${1:-benchmarks/results/gpu}
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
# 1. placement, mixed precision, matmul ceiling, encoding and training throughput (one job at a time)
python3 benchmarks/gpu_check.py --device cuda --epochs 3 --out "$out"
# 2. every adapter × data set × 3 seeds, 12 runs sharing the GPU
python3 benchmarks/adapter_table.py --jobs 12 --out "$out"
