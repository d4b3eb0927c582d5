"""Prometheus metrics, one registry per app (tests build many apps in one process)."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cb_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "cb_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.records = Counter(
            "cb_ingest_records_total",
            "Department records by outcome",
            ["source", "status"],
            registry=self.registry,
        )
        self.ws_clients = Gauge("cb_ws_clients", "Connected WebSocket clients", registry=self.registry)
        self.ws_closed_slow = Counter(
            "cb_ws_closed_slow_total", "Clients closed with 4008 for not reading", registry=self.registry
        )
        self.live_gap_fills = Counter(
            "cb_live_gap_fills_total",
            "Events fetched from the ledger to fill a broker gap",
            registry=self.registry,
        )
        self.ledger_lock_held = Counter(
            "cb_ledger_lock_held_seconds",
            "Time this worker's transactions held the ledger lock, from taking it to their commit",
            registry=self.registry,
        )
        self.worker_pid = Gauge("cb_worker_pid", "This worker's process id", registry=self.registry)
        self.worker_pid.set(os.getpid())
        self.ledger_head = Gauge("cb_ledger_head_seq", "Newest ledger seq seen by this worker", registry=self.registry)
        self.webhook_deliveries = Counter(
            "cb_webhook_deliveries_total", "Webhook delivery attempts", ["outcome"], registry=self.registry
        )
        self.overdue = Gauge("cb_incidents_overdue", "Open incidents past their deadline", registry=self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
