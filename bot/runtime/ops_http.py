"""What operators expect of a long-running bot: ``GET /healthz`` and ``GET /metrics``,
``POST /webhooks/huggingface`` when a Hub webhook secret is configured
(:mod:`bot.runtime.hub_webhook_handler`), and the evidence pages under ``/evidence/`` when a public
URL is set (:mod:`bot.evidence.site`).

Off unless ``POLICYBOT_HTTP_PORT`` is set. Liveness means the scheduler loop still ticks;
readiness means the database answers. Metrics are Prometheus text (prometheus_client), fed from
the results the checker and dispatcher already return, so the core needs no instrumentation.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.check.checker import CycleResult
from bot.deliver.dispatcher import DispatchResult
from bot.evidence.site import EvidenceSite
from bot.runtime.hub_webhook_handler import HubWebhookReceiver
from bot.store.threads import call

log = logging.getLogger(__name__)


class Database(Protocol):
    """What the ops endpoints read of the database: the Service (or a Store, in tests)."""

    def delivery_counts(self) -> dict[str, int]:
        """Deliveries by status."""

    def ping(self) -> None:
        """One round trip; raises SQLAlchemyError when the database does not answer."""


class Metrics:
    def __init__(self, store: Database) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.checks = Counter("policybot_checks", "Checks by outcome", ["status"], registry=r)
        self.failures = Counter(
            "policybot_check_failures", "Failed checks by reason", ["reason"], registry=r
        )
        self.changes = Counter(
            "policybot_changes", "Changes found", ["kind", "severity"], registry=r
        )
        self.deliveries = Counter(
            "policybot_deliveries", "Delivery attempts by outcome", ["outcome"], registry=r
        )
        self.latency = Histogram(
            "policybot_check_seconds",
            "Time to check one target",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.last_tick = Gauge(
            "policybot_last_tick_timestamp_seconds", "When the scheduler last ticked", registry=r
        )
        r.register(_OutboxCollector(store))

    def record_cycle(self, result: CycleResult) -> None:
        for outcome in result.outcomes:
            self.checks.labels(outcome.status).inc()
            self.latency.observe(outcome.seconds)
            if outcome.status == "failed":
                self.failures.labels(outcome.reason or "unknown").inc()
            else:
                for change in outcome.changes:
                    self.changes.labels(change.kind.value, change.severity.value).inc()

    def record_dispatch(self, result: DispatchResult) -> None:
        for outcome in ("sent", "retried", "dropped", "failed"):
            count = getattr(result, outcome)
            if count:
                self.deliveries.labels(outcome).inc(count)


class _OutboxCollector(Collector):
    """Queue depth is read from the database at scrape time, so every replica reports the
    same, true number."""

    def __init__(self, store: Database) -> None:
        self.store = store

    def collect(self):  # type: ignore[no-untyped-def]
        family = GaugeMetricFamily("policybot_outbox", "Deliveries by status", labels=["status"])
        try:
            counts = self.store.delivery_counts()
        except sa.exc.SQLAlchemyError:
            counts = {}
        for status in ("pending", "digest", "quiet", "sent", "failed", "dropped"):
            family.add_metric([status], counts.get(status, 0))
        yield family


class OpsServer:
    def __init__(
        self,
        store: Database,
        metrics: Metrics,
        tick_seconds: float,
        hub_webhook: HubWebhookReceiver | None = None,
        evidence: EvidenceSite | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.tick_seconds = tick_seconds
        self.hub_webhook = hub_webhook  # POST /webhooks/huggingface exists only with it
        self.evidence = evidence  # GET /evidence/... exists only with it
        self.last_tick = time.monotonic()
        self._runner: web.AppRunner | None = None

    def ticked(self) -> None:
        self.last_tick = time.monotonic()
        self.metrics.last_tick.set_to_current_time()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_text)
        if self.hub_webhook is not None:
            app.router.add_post("/webhooks/huggingface", self.hub_webhook.handle)
        if self.evidence is not None:
            self.evidence.mount(app)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("health and metrics on http://%s:%d/healthz and /metrics", host, port)
        if self.hub_webhook is not None:
            log.info("Hub webhook receiver on http://%s:%d/webhooks/huggingface", host, port)
        if self.evidence is not None:
            log.info("evidence pages on http://%s:%d/evidence/ (signed links only)", host, port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.hub_webhook is not None:
            await self.hub_webhook.aclose()

    async def healthz(self, request: web.Request) -> web.Response:
        age = time.monotonic() - self.last_tick
        live = age < max(3 * self.tick_seconds, 60.0)
        try:  # in a store thread: a stalled database answers 503, it never freezes the loop
            await call(self._ping)
            ready = True
        except sa.exc.SQLAlchemyError:
            ready = False
        body = {"live": live, "ready": ready, "seconds_since_tick": round(age, 1)}
        return web.json_response(body, status=200 if live and ready else 503)

    def _ping(self) -> None:
        self.store.ping()

    async def metrics_text(self, request: web.Request) -> web.Response:
        return web.Response(  # the outbox gauge reads the store: off the loop too
            body=await call(generate_latest, self.metrics.registry),
            content_type="text/plain",
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )
