"""Sweep jobs under the joblib launcher: a share of the cores each, and one GPU each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from dynrec_cli.training import placement


@pytest.fixture
def fresh_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A worker process that has not placed a job yet, with its own lock folder."""
    monkeypatch.setattr(placement, "_STARTED_WITH", None)
    monkeypatch.setattr(placement, "_CLAIMED", None)
    monkeypatch.setattr(placement.tempfile, "gettempdir", lambda: str(tmp_path))
    threads = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(threads)


def test_jobs_at_a_time_as_joblib_counts_them() -> None:
    assert placement.parallel_jobs(2, 8) == 2
    assert placement.parallel_jobs(-1, 8) == 8  # every core
    assert placement.parallel_jobs(-2, 8) == 7
    assert placement.parallel_jobs(None, 8) == 1


def test_each_live_worker_locks_a_gpu_of_its_own(tmp_path: Path) -> None:
    gpus = ["0", "1"]
    first, held_first = placement.claim_gpu(gpus, 0, tmp_path)
    second, held_second = placement.claim_gpu(gpus, 0, tmp_path)  # job 0's GPU is held: the next one
    third, held_third = placement.claim_gpu(gpus, 3, tmp_path)  # every GPU held: the job's own
    assert (first, second, third) == ("0", "1", "1")
    held_first.close()  # that worker ended: its GPU is free again
    again, held_again = placement.claim_gpu(gpus, 1, tmp_path)
    assert again == "0"
    for handle in (held_second, held_third, held_again):
        handle.close()


def test_a_worker_sees_the_gpu_of_its_first_job_and_keeps_it(monkeypatch: pytest.MonkeyPatch, fresh_worker: Path) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")  # the GPUs the whole sweep may use
    assert placement.pin_gpu(1) == "5"
    assert placement.pin_gpu(2) == "5"  # CUDA cannot change devices once started in a process
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "5"
    placement._CLAIMED.close()


def test_threads_are_split_unless_given(monkeypatch: pytest.MonkeyPatch, fresh_worker: Path) -> None:
    monkeypatch.setattr(placement, "usable_cores", lambda: 8)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(placement.shutil, "which", lambda name: None)  # no nvidia-smi: no GPU to pin
    assert placement.place_joblib_job(0, 4, None, "auto") == "2 torch thread(s) of 8 cores"
    assert torch.get_num_threads() == 2
    assert placement.place_joblib_job(0, 4, 3, "auto") == ""  # trainer.threads=3 is the user's


def test_an_explicit_cuda_device_is_not_narrowed(monkeypatch: pytest.MonkeyPatch, fresh_worker: Path) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert placement.place_joblib_job(1, 2, 1, "cuda:1") == ""
    assert placement.place_joblib_job(1, 2, 1, "cpu") == ""
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"
