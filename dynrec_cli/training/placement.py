"""Where a sweep job computes when Hydra's joblib launcher runs several at once on one machine:
its share of the CPU threads, and one GPU of its own.

The basic launcher runs one job at a time on the whole machine, and Ray places its tasks itself
(`hydra.launcher.ray.remote.num_gpus` / `num_cpus`), so only joblib workers are placed here.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
# the GPU list this worker process started with: CUDA_VISIBLE_DEVICES is narrowed to one entry below
_STARTED_WITH: list[str] | None = None
_CLAIMED: IO[str] | None = None  # the lock file of this worker's GPU, held open for the worker's life


def is_joblib(launcher_target: str) -> bool:
    return "hydra_joblib_launcher" in launcher_target


def parallel_jobs(n_jobs: int | None, cores: int) -> int:
    """joblib's count of simultaneous jobs: a negative n_jobs counts back from the cores (-1 = all)."""
    if n_jobs is None or n_jobs == 0:
        return 1
    return max(1, cores + 1 + n_jobs if n_jobs < 0 else n_jobs)


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def place_joblib_job(job_num: int, n_jobs: int | None, threads: int | None, device: str) -> str:
    """Give this worker `cores // n_jobs` torch threads (unless trainer.threads says) and, on a
    GPU box with trainer.device auto or cuda, one GPU; returns a line saying what it got."""
    import torch

    cores = usable_cores()
    said = []
    if threads is None:
        share = max(1, cores // parallel_jobs(n_jobs, cores))
        torch.set_num_threads(share)
        said.append(f"{share} torch thread(s) of {cores} cores")
    if device in ("auto", "cuda"):  # an explicit cuda:N names a GPU of the whole box: left as it is
        gpu = pin_gpu(job_num)
        if gpu is not None:
            said.append(f"GPU {gpu}")
    return ", ".join(said)


def pin_gpu(job_num: int, lock_dir: Path | None = None) -> str | None:
    """Make one GPU visible to this process, before CUDA starts in it: GPU `job_num % n_gpus`, or
    the next one no other live worker holds. A worker keeps the GPU its first job got (CUDA
    cannot switch devices once started). None on a machine without NVIDIA GPUs."""
    global _STARTED_WITH, _CLAIMED
    if _STARTED_WITH is None:
        _STARTED_WITH = visible_gpus()
    if _CLAIMED is not None:
        return os.environ.get("CUDA_VISIBLE_DEVICES")
    if not _STARTED_WITH:
        return None
    folder = lock_dir or Path(tempfile.gettempdir()) / f"dynrec-gpus-{os.getuid()}"
    gpu, handle = claim_gpu(_STARTED_WITH, job_num, folder)
    _CLAIMED = handle
    os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    return gpu


def claim_gpu(gpus: list[str], job_num: int, lock_dir: Path) -> tuple[str, IO[str]]:
    """Lock the GPU for `job_num` (`gpus[job_num % len(gpus)]`) or, when another process holds
    that one, the next free one; with every GPU held (more jobs than GPUs), the job's own.
    Returns the GPU and its open lock file (the lock lasts while the file is open)."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    start = job_num % len(gpus)
    for gpu in gpus[start:] + gpus[:start]:
        handle = open(lock_dir / f"gpu-{gpu}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return gpu, handle
        except BlockingIOError:
            handle.close()
    return gpus[start], open(lock_dir / f"gpu-{gpus[start]}.lock", "w")


def visible_gpus() -> list[str]:
    """The GPUs this process may use, found without starting CUDA (which would fix them for the
    process): CUDA_VISIBLE_DEVICES when set, else the GPUs nvidia-smi lists."""
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        return [g.strip() for g in given.split(",") if g.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("nvidia-smi -L failed (%s): sweep jobs are not pinned to GPUs", exc)
        return []
    return [str(i) for i, line in enumerate(line for line in listed.splitlines() if line.startswith("GPU "))]
