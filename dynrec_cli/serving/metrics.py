"""GET /metrics (Prometheus text format) and the JSON-lines access log."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# request latency buckets (seconds): a cached top-K is well under a millisecond, a commit seconds
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # no `_created` series beside every counter: scrapers compute rates without them


class Metrics:
    """The server's counters, on a registry of its own (several servers in one process stay apart)."""

    def __init__(self, queue_depth: Callable[[], int], store_figures: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("dynrec_requests", "HTTP requests by route, method and status", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("dynrec_request_seconds", "HTTP request latency by route and method", ["route", "method"],
                                 buckets=BUCKETS, registry=self.registry)
        self.events = Counter("dynrec_events_applied", "events applied to the interest store", registry=self.registry)
        self.apply = Histogram("dynrec_batch_apply_seconds", "seconds to apply one event batch (after its fsync)",
                               buckets=BUCKETS, registry=self.registry)
        self.fsync = Histogram("dynrec_journal_write_seconds", "seconds to append and fsync a group of batches to the journal",
                               buckets=BUCKETS, registry=self.registry)
        depth = Gauge("dynrec_queue_depth", "write jobs waiting for the writer", registry=self.registry)
        depth.set_function(queue_depth)
        for name, help_text in (("users", "users in the store"), ("items", "items in the store")):
            gauge = Gauge(f"dynrec_store_{name}", help_text, registry=self.registry)
            gauge.set_function(lambda name=name: store_figures()[name])

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def applied(self, events: int, seconds: float) -> None:
        self.events.inc(events)
        self.apply.observe(seconds)

    def journaled(self, seconds: float) -> None:
        self.fsync.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def access_logger(enabled: bool) -> logging.Logger:
    """`dynrec.access`: one JSON object per line on stderr (nothing when disabled)."""
    logger = logging.getLogger("dynrec.access")
    logger.propagate = False
    logger.handlers = [logging.StreamHandler(sys.stderr)] if enabled else [logging.NullHandler()]
    logger.handlers[0].setFormatter(logging.Formatter("%(message)s"))
    logger.setLevel(logging.INFO)
    return logger


def access_line(method: str, path: str, route: str, status: int, seconds: float, client: str | None) -> str:
    return json.dumps({"ts": round(time.time(), 3), "method": method, "path": path, "route": route, "status": status,
                       "ms": round(seconds * 1000.0, 3), "client": client}, separators=(",", ":"))
