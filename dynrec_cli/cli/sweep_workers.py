"""The joblib launcher's worker processes, started while the sweep is still being checked.

Hydra's joblib launcher starts its workers when it hands out the first job; each then imports
torch and dynrec (2-3 s) before it runs anything, and at the end loky stops them one by one. Here
they start as soon as the sweep's launcher is known, importing what a job imports while this
process checks the grid; one of them then imports and checks the classes the jobs build (so this
process never imports torch), and the launcher's own `Parallel` (same settings, so joblib reuses
the executor) finds them ready. Once the sweep is done they are stopped at once: every job has
written its run folder by then.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)
# what a job's first run imports: the stages (torch, pandas), torch's optimiser step (torch._dynamo,
# about 1 s on its own) and the report's figures (matplotlib)
JOB_MODULES = ("dynrec_cli.pipeline", "torch._dynamo", "dynrec_cli.evaluation.report", "dynrec_cli.evaluation.plots")
# loky measures a worker's memory after its first task and replaces the worker (with a cold one)
# once it holds 300 MB more: measured after the imports, a job's first run on the shipped sample
# already keeps ~300 MB (torch's kernels, the data), so the limit is raised in warmed workers
LEAK_LIMIT = 2 << 30


def import_job_modules() -> int:
    """Run in a worker: import what a job needs (nothing that starts CUDA); the worker's pid."""
    from joblib.externals.loky import process_executor

    for name in JOB_MODULES:
        importlib.import_module(name)
    process_executor._MAX_MEMORY_LEAK_SIZE = max(process_executor._MAX_MEMORY_LEAK_SIZE, LEAK_LIMIT)
    return os.getpid()


class Workers:
    """Warm joblib workers: `stop()` once the sweep is done (or refused)."""

    def __init__(self, settings: dict[str, Any], warming: Iterator[int]) -> None:
        self._settings = settings
        self._warming = warming  # kept until stop(): joblib aborts a generator that is collected early

    def check_classes(self, named: set[tuple[str, str]]) -> None:
        """`targets.check_classes` in a worker: the classes the jobs build are imported there (with
        torch, which the parent then never imports); Refused here, before the sweep starts."""
        from joblib import Parallel, delayed

        from dynrec_cli import targets

        try:
            (refusals,) = Parallel(**self._settings)([delayed(targets.class_refusals)(sorted(named))])
        except Exception as exc:  # noqa: BLE001 - a worker lost (killed, out of memory): the check runs here
            log.warning("joblib worker could not check the classes (%s); checking them in this process", exc)
            refusals = targets.class_refusals(named)
        for path, message in refusals[:1]:
            raise targets.Refused(path, message)

    def stop(self) -> None:
        """Stop the workers without waiting for them to wind down (1-2 s with torch loaded), or
        for a warm-up still importing (a sweep refused early)."""
        from joblib.externals.loky import reusable_executor

        # the executor joblib reused (get_reusable_executor() with other settings would replace it)
        executor = getattr(reusable_executor, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=True, kill_workers=True)
        try:
            for _ in self._warming:
                pass
        except Exception as exc:  # noqa: BLE001 - a warm-up cut short: nothing of the sweep depends on it
            log.debug("joblib warm-up ended: %s", exc)


def start(launcher: DictConfig) -> Workers | None:
    """Start the workers of Hydra's joblib launcher (`hydra.launcher`) with its own settings,
    importing what a job imports; None for any other launcher, or where joblib would run the jobs
    in this process (one job at a time, or not the main thread)."""
    from dynrec_cli.training.placement import is_joblib, parallel_jobs, usable_cores

    if not is_joblib(str(launcher.get("_target_", ""))) or threading.current_thread() is not threading.main_thread():
        return None
    settings = joblib_settings(launcher)
    count = parallel_jobs(settings.get("n_jobs"), usable_cores())
    if count < 2:
        return None
    from joblib import Parallel, delayed

    warming = Parallel(**settings, return_as="generator_unordered")(delayed(import_job_modules)() for _ in range(count))
    return Workers(settings, warming)


def joblib_settings(launcher: DictConfig) -> dict[str, Any]:
    """The keyword arguments Hydra's joblib launcher gives `joblib.Parallel` (its `_core.launch`),
    so that joblib finds the executor started here to be the one the launcher asks for."""
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg

    settings = OmegaConf.to_container(launcher, resolve=True)
    assert isinstance(settings, dict)
    settings = {str(key): value for key, value in settings.items() if key != "_target_"}
    settings["backend"] = "loky"
    process_joblib_cfg(settings)
    return settings
