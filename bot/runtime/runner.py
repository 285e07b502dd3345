"""``policybot run``: APScheduler (3.11) drives the check tick and the outbox flush.

One in-memory job store per process (APScheduler 3 job stores must never be shared); the
per-target schedule, with its jitter and backoff, lives in our own database, so any number of
processes could share the work by claiming due targets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.evidence.mint import signer_for
from bot.runtime.hub_webhook_handler import HubWebhookReceiver
from bot.runtime.ops_http import Metrics, OpsServer
from bot.service.executor import Listener, Service
from bot.store.threads import call

log = logging.getLogger(__name__)
__all__ = ["Listener", "run_forever"]


async def run_forever(
    service: Service,
    settings: Settings,
    stop: asyncio.Event | None = None,
    listeners: Sequence[Listener] = (),
) -> None:
    """Check due targets every tick and flush the outbox until SIGINT/SIGTERM (or ``stop``);
    adapters that receive commands listen alongside."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not possible outside the main thread (tests run the loop elsewhere).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    metrics = Metrics(service)
    secret = settings.hf_webhook_secret.get_secret_value() if settings.hf_webhook_secret else ""
    hub_webhook = (
        HubWebhookReceiver(service, secret, metrics.record_cycle, metrics.record_dispatch)
        if secret
        else None
    )
    if hub_webhook is not None and not settings.http_port:
        log.warning("POLICYBOT_HF_WEBHOOK_SECRET is set but POLICYBOT_HTTP_PORT is not: "
                    "no Hub webhook receiver is listening")  # fmt: skip
    signer = signer_for(settings)
    evidence = (
        service.evidence_site(signer, settings.diff_max_lines) if signer is not None else None
    )
    ops = OpsServer(service, metrics, settings.tick_seconds, hub_webhook, evidence)

    async def tick() -> None:
        ops.ticked()
        result = await service.check_due()
        metrics.record_cycle(result)
        if result.outcomes:
            log.info("tick: %s", result.summary())
        metrics.record_dispatch(await service.flush_deliveries())

    async def flush() -> None:
        metrics.record_dispatch(await service.flush_deliveries())

    scheduler = AsyncIOScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    scheduler.add_job(
        _guard("tick", tick),
        "interval",
        seconds=settings.tick_seconds,
        jitter=min(5.0, settings.tick_seconds / 4),
        id="tick",
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        _guard("flush", flush), "interval", seconds=min(5.0, settings.tick_seconds), id="flush"
    )
    if settings.http_port:
        await ops.start(settings.http_host, settings.http_port)
    # Alive before any work is claimed: the heartbeat is what other replicas judge us by.
    await _beat(service, settings)
    scheduler.start()
    tasks = [asyncio.create_task(_keep_listening(lst, service, settings)) for lst in listeners]
    tasks.append(asyncio.create_task(_heartbeat(service, settings)))
    log.info(
        "policybot running: tick every %gs, checks every %gs (+ up to %gs jitter); "
        "command listeners: %s",
        settings.tick_seconds,
        settings.check_interval,
        settings.check_jitter,
        ", ".join(str(getattr(lst, "platform", type(lst).__name__)) for lst in listeners) or "none",
    )
    try:
        await stop.wait()
    finally:
        log.info("stopping: no new checks are claimed; in-flight work is finished or released")
        scheduler.shutdown(wait=False)
        await ops.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(service.flush_deliveries(), settings.delivery_timeout)
        finally:
            # Whatever is still claimed by this process (and its heartbeat) is handed back
            # for the next one.
            await call(service.release_my_leases)


async def _beat(service: Service, settings: Settings) -> None:
    await call(service.beat, timedelta(seconds=settings.heartbeat_seconds))


async def _heartbeat(service: Service, settings: Settings) -> None:
    """Renew this process's heartbeat every third of its lifetime, and free the work of
    processes whose heartbeat expired (they died, on this host or any other): liveness that
    rests on neither hostname nor PID. A process wrongly judged dead (a long stall) loses
    nothing: its fenced writes then fail, so it records and sends nothing twice."""
    every = settings.heartbeat_seconds / 3
    while True:
        await asyncio.sleep(every)
        try:
            await _beat(service, settings)
            dead = await call(service.release_dead_owners)
        except sa.exc.SQLAlchemyError as e:
            log.debug("heartbeat not renewed (%s)", type(e).__name__)
            continue
        if dead:
            log.info("took back the work of %d process(es) whose heartbeat expired", len(dead))


async def _keep_listening(listener: Listener, service: Service, settings: Settings) -> None:
    """Run ``listener`` only while this process holds its lease, so that of several replicas
    exactly one holds the chat connection; another takes over within one lease period when
    the holder dies. A listener that fails is restarted with backoff."""
    if not getattr(listener, "single_owner", True):
        await _restart_forever(listener, service)
        return
    name = f"listener:{getattr(listener, 'platform', type(listener).__name__)}"
    ttl = timedelta(seconds=settings.lease_seconds)
    beat = max(0.05, settings.lease_seconds / 3)
    delay = 1.0
    try:
        while True:
            if not await call(service.hold_lease, name, ttl):
                await asyncio.sleep(beat)
                continue
            log.info("this process now holds %s", name)
            task = asyncio.create_task(listener.listen(service))
            while not task.done():
                await asyncio.wait({task}, timeout=beat)
                if not task.done() and not await call(service.hold_lease, name, ttl):
                    log.warning("lost %s to another replica; stopping it here", name)
                    task.cancel()
            try:
                await task
                delay = 1.0
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we are shutting down; otherwise the listener lost its lease
            except Exception:
                log.exception("%s failed; restarting in %.0f s", name, delay)
                await call(service.release_lease, name)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300.0)
    finally:
        await call(service.release_lease, name)


async def _restart_forever(listener: Listener, service: Service) -> None:
    """A listener every replica runs (e.g. an HTTP endpoint): restarted with backoff."""
    delay = 1.0
    while True:
        try:
            await listener.listen(service)
            delay = 1.0
        except Exception:
            log.exception("%s failed; restarting in %.0f s", type(listener).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 300.0)


def _guard(name: str, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """A job that raises must not kill the scheduler. A database outage is one warning line
    (repeats at debug level until it is back), not a traceback per tick; anything else is a
    bug and is logged with its traceback."""
    down = False

    async def guarded() -> None:
        nonlocal down
        try:
            await job()
        except asyncio.CancelledError:  # shutdown: what it claimed is released by run()
            log.debug("%s cancelled by shutdown", name)
            return
        except sa.exc.SQLAlchemyError as e:
            reason = str(e.orig if isinstance(e, sa.exc.DBAPIError) else e).splitlines()[0]
            if not down:
                log.warning("%s: database unreachable (%s); retrying every tick", name, reason)
            else:
                log.debug("%s: database still unreachable (%s)", name, reason)
            down = True
            return
        except Exception:
            log.exception("%s job failed; it runs again at its next interval", name)
            return
        if down:
            log.info("%s: database reachable again", name)
            down = False

    return guarded
