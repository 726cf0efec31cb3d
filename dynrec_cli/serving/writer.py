"""The one writer: a bounded queue of write jobs, applied in arrival order by one thread.

Event batches are journaled before they are applied and answered only once the journal is
fsynced. Consecutive queued batches with no user in common go through one fsync together (group
commit): none of them can change what another is checked against (each user's latest time), so
checking them all first and applying them after gives what one-by-one would. A full queue refuses
the job at once (`Busy`: the server answers 503 with Retry-After) instead of growing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from dynrec_cli.capture.journal import Entry
from dynrec_cli.errors import DataError
from dynrec_cli.capture.events import NewEvents
from dynrec_cli.serving.inbound import EventBatch, Invalid, now_stamp, problem
from dynrec_cli.serving.live import LiveStore
from dynrec_cli.serving.metrics import Metrics

log = logging.getLogger(__name__)
GROUP = 64  # event batches sharing one fsync at most


class Busy(Exception):
    """The queue is full: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the write queue is full; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass
class Job:
    """A write: an event batch, or a call on the store (items, forget) run in order with the events."""

    batch: EventBatch | None = None
    call: Callable[[LiveStore], Any] | None = None
    done: Future = field(default_factory=Future)


class Writer:
    def __init__(self, live: LiveStore, capacity: int, checkpoint_every: int, pause_ms: float, metrics: Metrics) -> None:
        self.live, self.capacity, self.checkpoint_every, self.pause = live, capacity, checkpoint_every, pause_ms / 1000.0
        self.metrics = metrics
        self._jobs: deque[Job] = deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._seconds_per_job = 0.01  # running mean, for Retry-After
        self._thread = threading.Thread(target=self._run, name="dynrec-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def depth(self) -> int:
        return len(self._jobs)

    def submit(self, job: Job) -> Future:
        """Queue a job; its future resolves once it is applied (and, for events, durable).

        Raises:
            Busy: the queue holds `capacity` jobs already.
        """
        with self._ready:
            if self._stopping:
                raise Busy(1)
            if len(self._jobs) >= self.capacity:
                raise Busy(max(1, min(60, round(len(self._jobs) * self._seconds_per_job + 0.5))))
            self._jobs.append(job)
            self._ready.notify()
        return job.done

    def stop(self) -> None:
        """Finish the queued jobs, then stop the thread."""
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join()

    def _next(self) -> list[Job] | None:
        """The next job, or a group of event batches whose users do not overlap; None once stopped and empty."""
        with self._ready:
            while not self._jobs and not self._stopping:
                self._ready.wait()
            if not self._jobs:
                return None
            group = [self._jobs.popleft()]
            if group[0].batch is None:
                return group
            users = group[0].batch.user_set()
            while self._jobs and self._jobs[0].batch is not None and len(group) < GROUP:
                following = self._jobs[0].batch.user_set()
                if users & following:
                    break
                users |= following
                group.append(self._jobs.popleft())
            return group

    def _run(self) -> None:
        while (group := self._next()) is not None:
            started = time.perf_counter()
            try:
                if group[0].batch is None:
                    self._call(group[0])
                else:
                    self._events(group)
                if self.live.since_commit() >= self.checkpoint_every:
                    self.live.commit()
            except BaseException as exc:  # a failure reaches the waiting requests (whose 500 logs it), never kills the writer
                log.error("[serve] write failed: %s: %s", type(exc).__name__, exc)
                for job in group:
                    if not job.done.done():
                        job.done.set_exception(exc)
            seconds = time.perf_counter() - started
            self._seconds_per_job = 0.9 * self._seconds_per_job + 0.1 * seconds / len(group)
            if self.pause:
                time.sleep(self.pause)

    def _call(self, job: Job) -> None:
        assert job.call is not None
        job.done.set_result(job.call(self.live))

    def _events(self, group: list[Job]) -> None:
        now = now_stamp()  # for the events sent without a timestamp: the time they are applied
        accepted: list[tuple[Job, int, NewEvents, list[list[Any]]]] = []
        for job in group:
            assert job.batch is not None
            events, lines = job.batch.stamped(now)
            try:
                self.live.check(events)
            except DataError as exc:
                job.done.set_exception(Invalid(422, f"events[{exc.row}].{exc.column}", problem(exc)))
                continue
            accepted.append((job, job.batch.received, events, lines))
        if not accepted:
            return
        first, started = self.live.seq + 1, time.perf_counter()
        self.live.journal.append([Entry(first + i, lines) for i, (_, _, _, lines) in enumerate(accepted)])
        self.metrics.journaled(time.perf_counter() - started)
        for i, (job, received, events, _) in enumerate(accepted):  # durable now: apply, then answer
            started = time.perf_counter()
            applied = self.live.apply(events, first + i)
            self.metrics.applied(applied, time.perf_counter() - started)
            job.done.set_result({"applied": applied, "received": received})
