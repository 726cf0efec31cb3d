"""The joblib workers started while a sweep is checked are the ones Hydra's joblib launcher then
runs the jobs in, with what a job imports already imported; stop() ends them."""

from __future__ import annotations

import os
import sys
import time

import psutil
import pytest

from dynrec_cli.cli._hydra import compose_with_hydra
from dynrec_cli.cli.sweep_workers import JOB_MODULES, start

pytest.importorskip("hydra_plugins.hydra_joblib_launcher", reason="extra `sweep` not installed")


def _launcher(*overrides: str):  # noqa: ANN202 - a DictConfig
    return compose_with_hydra("train", ["model=pop", *overrides])[1].launcher


KEPT: list[bytes] = []


def _job_modules_imported() -> tuple[int, bool]:
    return os.getpid(), all(name in sys.modules for name in JOB_MODULES)


def _keep_memory_like_a_first_job() -> tuple[int, bool]:
    """Hold 400 MiB for the worker's life and outlast loky's 1 s between memory checks: loky
    would take that for a leak and replace the worker with one that never warmed up."""
    KEPT.append(b"\x01" * (400 << 20))
    time.sleep(1.2)
    return _job_modules_imported()


def test_the_launcher_runs_its_jobs_in_the_warm_workers_and_stop_ends_them() -> None:
    from hydra.utils import instantiate
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
    from joblib import Parallel, delayed

    launcher = _launcher("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    workers = start(launcher)
    assert workers is not None
    # what Hydra's launcher hands joblib (hydra_joblib_launcher._core.launch), built by Hydra itself
    settings = dict(instantiate(launcher).joblib, backend="loky")
    process_joblib_cfg(settings)
    ran = Parallel(**settings)(delayed(task)() for task in [_keep_memory_like_a_first_job] * 2 + [_job_modules_imported] * 4)
    pids = {pid for pid, _ in ran}
    assert all(imported for _, imported in ran)  # the workers imported them before any job came
    assert len(pids) <= 2 and os.getpid() not in pids
    workers.stop()
    assert not any(psutil.pid_exists(pid) for pid in pids)


@pytest.mark.parametrize("overrides", [[], ["hydra/launcher=joblib", "hydra.launcher.n_jobs=1"]], ids=["basic", "one-job"])
def test_no_workers_where_the_jobs_run_in_this_process(overrides: list[str]) -> None:
    assert start(_launcher(*overrides)) is None


def test_a_class_is_checked_in_a_worker_and_still_refused_when_the_workers_are_lost() -> None:
    from joblib.externals.loky import reusable_executor

    from dynrec_cli.targets import Refused

    missing = {("trainer.optimizer", "torch.optim.NoSuchOptimiser")}
    workers = start(_launcher("hydra/launcher=joblib", "hydra.launcher.n_jobs=2"))
    assert workers is not None
    try:
        workers.check_classes({("trainer.optimizer", "torch.optim.Adam")})
        with pytest.raises(Refused, match=r"NoSuchOptimiser' is not a torch.optim optimiser class \(no such class"):
            workers.check_classes(missing)
        for pid in list(reusable_executor._executor._processes):
            psutil.Process(pid).kill()  # a worker killed (out of memory): the check is still made
        with pytest.raises(Refused, match="NoSuchOptimiser"):
            workers.check_classes(missing)
    finally:
        workers.stop()
