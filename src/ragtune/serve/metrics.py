"""Prometheus metrics of one server (its own registry, so two apps in one process never mix)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class ServerMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("ragtune_requests_total", "HTTP requests by route and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("ragtune_request_seconds", "Request latency by route (streams: until the response starts)",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.tokens = Counter("ragtune_tokens_total", "Model tokens by kind (prompt, completion)",
                              ["kind"], registry=self.registry)
        self.cost = Counter("ragtune_cost_usd_total", "Estimated cost of answers ([cost] price table)",
                            registry=self.registry)
        self.rate_limited = Counter("ragtune_rate_limited_total", "Requests refused with 429",
                                    registry=self.registry)
        self.in_flight = Gauge("ragtune_requests_in_flight", "Requests being served", registry=self.registry)
        self.documents = Gauge("ragtune_index_documents", "Documents in the index", registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
