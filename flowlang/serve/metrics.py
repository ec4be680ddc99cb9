"""The server's Prometheus metrics: one registry per app, served at `GET /metrics`."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from flowlang.serve.store.base import Counts

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Set (by `flowlang serve --workers N`, or the operator), every worker's metrics are kept in
# files in this folder and `render` adds them up: whichever worker is scraped answers for all.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Webhook answers are a few milliseconds when all is well; the top buckets show a store or a
# disk in trouble long before Telnyx's 2 s limit is reached.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


class Metrics:
    """Counters the server updates as it works, and the store-wide gauges read at scrape time.

    Counters and the histogram count what this worker did, or what every worker on this
    machine did when MULTIPROC_DIR is set; `active_calls` and `outbox_depth` are read from the
    store, so every worker reports the same store-wide figure.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhooks = Counter(
            "flowlang_webhooks",
            "Webhooks answered, by result (started, stepped, duplicate... or the refusal's"
            " HTTP status)",
            ["result"],
            registry=self.registry,
        )
        self.webhook_seconds = Histogram(
            "flowlang_webhook_seconds",
            "Time from a webhook's arrival to its answer",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.commands = Counter(
            "flowlang_commands",
            "Commands tried, by action and outcome (sent, rejected, failed: a transient failure)",
            ["action", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "flowlang_command_retries",
            "Commands scheduled to be tried again after a transient failure",
            ["action"],
            registry=self.registry,
        )
        self.runs_stopped = Counter(
            "flowlang_runs_stopped",
            "Runs stopped because a command was refused or could not be delivered",
            registry=self.registry,
        )
        # Read from the store at each scrape: with several workers the latest reading counts.
        self.active_calls = Gauge(
            "flowlang_active_calls",
            "Calls whose run goes on (store-wide)",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.outbox_depth = Gauge(
            "flowlang_outbox_depth",
            "Commands waiting to be carried out (store-wide)",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.store_up = Gauge(
            "flowlang_store_up",
            "1 when the last scrape could read the store, 0 when it could not",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )

        # Each labelled child, found once: `labels()` checks its values and takes a lock on every
        # call, and the server counts on every webhook and every command.
        self._children: dict[tuple[Counter, tuple[str, ...]], Counter] = {}

    def count(self, counter: Counter, *labels: str) -> None:
        """Add one to `counter`'s child for `labels` (as `counter.labels(*labels).inc()`)."""
        key = (counter, labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = counter.labels(*labels)
        child.inc()

    def render(self, counts: Counts | None) -> bytes:
        """The exposition text, with the store-wide gauges set from `counts` (None: the store
        could not be read, and the gauges keep their last values)."""
        if counts is not None:
            self.active_calls.set(counts.active_calls)
            self.outbox_depth.set(counts.outbox_depth)
        self.store_up.set(1 if counts is not None else 0)
        folder = os.environ.get(MULTIPROC_DIR)
        if not folder:
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker, path=folder)  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)
