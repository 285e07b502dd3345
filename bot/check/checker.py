"""The imperative shell of a check: fetch → normalise → detect → ONE transaction.

Everything that decides is pure and lives elsewhere (sources' ``detect``, :mod:`bot.alerts.compose`,
:mod:`bot.check.schedule`); this module only moves data between the source, the store and the
outbox, and turns every failure into a recorded value so one bad target never stops a tick.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.alerts.compose import alert_for, health_change
from bot.alerts.timing import ChannelPrefs, decide
from bot.check.schedule import next_check_after_failure, next_check_after_success
from bot.config import Settings
from bot.detect.history import History
from bot.domain.errors import SourceError
from bot.domain.model import (
    Alert,
    Change,
    CheckStatus,
    Gone,
    NotModified,
    Observation,
    Severity,
    Validators,
)
from bot.sources.base import Source, StreamSource, Views, ViewSource
from bot.store import NewDelivery, QuietCheck, SnapshotRow, Store, SubscriptionRow, TargetRow
from bot.store.checks import CheckContext, CheckRecord, FailureRecord
from bot.store.claims import LeaseLost
from bot.store.held import channel_prefs
from bot.store.threads import GroupCommit, call, keep_renewed

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """What one check did, for the CLI summary, chat replies and tests."""

    ref: str
    status: CheckStatus
    changes: tuple[Change, ...] = ()
    message: str | None = None
    reason: str | None = None
    facts: Mapping[str, Any] | None = None
    queued: int = 0
    seconds: float = 0.0


@dataclass
class CycleResult:
    outcomes: list[CheckOutcome] = field(default_factory=list)
    busy: int = 0  # asked for, but being checked by another process right now

    def count(self, status: CheckStatus) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> str:
        changed = self.count(CheckStatus.CHANGED)
        failed = self.count(CheckStatus.FAILED)
        lost = self.count(CheckStatus.LOST)
        quiet = len(self.outcomes) - changed - failed - lost
        alerts = sum(o.queued for o in self.outcomes)
        return (
            f"checked {len(self.outcomes)} target{'s' if len(self.outcomes) != 1 else ''}: "
            f"{changed} changed, {failed} failed, {quiet} unchanged or baseline; "
            f"{alerts} alert{'s' if alerts != 1 else ''} queued"
            + (f"; {self.busy} busy in another process" if self.busy else "")
            + (f"; {lost} taken over by another process" if lost else "")
        )


def route(
    severity: Severity, subs: Sequence[SubscriptionRow], now: datetime, *, health: bool = False
) -> list[str]:
    """Channels that should hear about a change of ``severity``. Pure.

    Health alerts ignore the minimum severity: a watch that went blind must be heard of.
    """
    channels: list[str] = []
    for sub in subs:
        if sub.muted_until is not None and sub.muted_until > now:
            continue
        if not health and severity.rank < Severity(sub.min_severity).rank:
            continue
        if sub.channel not in channels:
            channels.append(sub.channel)
    return channels


class Checker:
    def __init__(
        self,
        store: Store,
        sources: Mapping[str, Source],
        settings: Settings,
        clock: Callable[[], datetime],
        owner: str,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.sources = sources
        self.settings = settings
        self.clock = clock
        self.owner = owner
        self.rng = rng or random.Random()
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._lease = timedelta(seconds=settings.lease_seconds)
        self._quiet: list[QuietCheck] = []  # recorded together at the end of a batch
        # Claimed, but the database went away before the outcome was recorded: handed back at
        # the next tick instead of staying leased for the whole lease period.
        self._unrecorded: set[int] = set()
        # Claimed and not yet recorded: their leases are renewed while the checks run.
        self._in_flight: set[int] = set()
        # What each claimed target's check reads (snapshot, subscriptions), loaded per batch.
        self._context: dict[int, CheckContext] = {}
        self._prefs: dict[str, ChannelPrefs] = {}  # fresh for each batch's channels
        # Checks that found something (or failed) are recorded together as they finish, each
        # fenced on its own (a group commit; see GroupCommit and Store.record_many).
        self._writer: GroupCommit[CheckRecord | FailureRecord, bool] = GroupCommit(
            lambda records: self.store.record_many(records, owner=self.owner)
        )
        # Snapshots are read the same way, by the checks that need them (not after a 304).
        self._snapshots: GroupCommit[int, SnapshotRow | None] = GroupCommit(
            self.store.snapshots_by_id
        )
        self._earlier: GroupCommit[tuple[int, int], SnapshotRow | None] = GroupCommit(
            self.store.earlier_snapshots
        )

    async def check_due(self) -> CycleResult:
        """Check every target that is due now, in claimed batches."""
        await self._release_unrecorded()
        result = CycleResult()
        while True:
            batch = await call(
                self.store.claim_due,
                self.clock(),
                self.owner,
                self._lease,
                self.settings.claim_batch,
            )
            if not batch:
                return result
            result.outcomes.extend(await self.check_targets(batch))

    async def check_ids(self, target_ids: Sequence[int]) -> CycleResult:
        """Check the given targets now, whatever their schedule."""
        await self._release_unrecorded()
        batch = await call(
            self.store.claim_due,
            self.clock(),
            self.owner,
            self._lease,
            len(target_ids) or 1,
            target_ids=target_ids,
        )
        return CycleResult(await self.check_targets(batch), busy=len(target_ids) - len(batch))

    async def check_targets(self, batch: Sequence[TargetRow]) -> list[CheckOutcome]:
        self._in_flight.update(t.id for t in batch)
        try:
            context = await call(self.store.prefetch, batch)
        except sa.exc.SQLAlchemyError:
            self._in_flight.difference_update(t.id for t in batch)
            self._unrecorded.update(t.id for t in batch)
            raise
        self._prefs.update(context.prefs)
        self._context.update((t.id, context) for t in batch)
        renewer = asyncio.create_task(
            keep_renewed(
                self._lease.total_seconds(),
                lambda: self._in_flight,
                lambda ids: self.store.renew_targets(ids, self.owner, self.clock(), self._lease),
                "check",
            )
        )
        try:
            results = await asyncio.gather(
                *(self._guarded(t) for t in batch), return_exceptions=True
            )
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            for t in batch:
                self._context.pop(t.id, None)
        # Quiet checks (304 / same bytes, nothing owed) share one transaction: they only move a
        # schedule. Checks that found something were recorded already.
        quiet, self._quiet = self._quiet, []
        try:
            await call(self.store.record_quiet, quiet, owner=self.owner)
        except sa.exc.SQLAlchemyError:
            self._unrecorded.update(q.target_id for q in quiet)
            raise
        finally:
            self._in_flight.difference_update(q.target_id for q in quiet)
        failed = [
            (t, r) for t, r in zip(batch, results, strict=True) if isinstance(r, BaseException)
        ]
        if failed:  # only database errors get here (_guarded turns the rest into outcomes)
            self._unrecorded.update(t.id for t, _r in failed)
            raise failed[0][1]
        return [r for r in results if isinstance(r, CheckOutcome)]

    async def _release_unrecorded(self) -> None:
        if self._unrecorded:
            await call(self.store.release_targets, set(self._unrecorded), self.owner)
            self._unrecorded.clear()

    async def _guarded(self, target: TargetRow) -> CheckOutcome:
        try:
            async with self._slots:
                started = time.perf_counter()
                try:
                    outcome = await self.check_one(target)
                    return replace(outcome, seconds=time.perf_counter() - started)
                except sa.exc.SQLAlchemyError:
                    raise  # the database is down: nothing can be recorded; the tick is retried
                except LeaseLost:
                    raise
                except Exception as e:  # a bug must cost one target one check, never the tick
                    log.exception("check crashed target=%s", target.ref)
                    return await self._failed(
                        target, "internal", f"internal error: {type(e).__name__}"
                    )
        except LeaseLost:
            log.warning(
                "check not recorded: another process took target=%s over (lease lost)",
                target.ref,
            )
            # Still ours if only the snapshot moved (compare-and-set): hand it back at once
            # rather than hold it for a whole lease; a no-op when another process holds it.
            self._unrecorded.add(target.id)
            return CheckOutcome(target.ref, CheckStatus.LOST)
        finally:
            if not any(q.target_id == target.id for q in self._quiet):  # recorded at batch end
                self._in_flight.discard(target.id)

    async def check_one(self, target: TargetRow) -> CheckOutcome:
        source = self.sources.get(target.kind)
        if source is None:
            return await self._failed(
                target, "unsupported", f"no source for {target.kind}: targets in this version"
            )
        ref = target.target_ref
        validators = Validators(target.etag, target.last_modified, target.body_digest)
        try:
            if isinstance(source, ViewSource):  # one fetch, one extraction per view
                result = await source.fetch_views(
                    ref, validators, lambda: self._views(target, source)
                )
            else:
                result = await source.fetch(ref, validators, target.options)
        except SourceError as e:
            return await self._failed(target, e.reason, str(e), e.retry_after)
        now = self.clock()
        if isinstance(result, NotModified):
            recovery = await self._recovery(target, now)
            if recovery:  # the "recovered" message goes out in the same transaction
                await self._record(
                    target,
                    CheckRecord(
                        target.id,
                        now,
                        self._next_ok(now),
                        None,
                        queue=tuple(recovery),
                        validators=result.validators,
                        expected_snapshot=target.latest_snapshot_id,
                    ),
                )
            else:
                v = result.validators
                self._quiet.append(
                    QuietCheck(target.id, now, self._next_ok(now), v.etag, v.last_modified)
                )
            return CheckOutcome(target.ref, CheckStatus.NOT_MODIFIED)
        prev = await self._latest(target)
        if isinstance(result, Gone):
            if prev is None or not prev.facts.get("exists", True):
                if prev is not None:  # still gone: nothing new to say
                    await self._record(
                        target,
                        CheckRecord(
                            target.id,
                            now,
                            self._next_ok(now),
                            None,
                            queue=tuple(await self._recovery(target, now)),
                            expected_snapshot=target.latest_snapshot_id,
                        ),
                    )
                    return CheckOutcome(target.ref, CheckStatus.UNCHANGED, facts=prev.facts)
                return await self._failed(target, "not-found", result.reason)
            streak = target.gone_streak + 1
            if streak < self.settings.gone_confirmations:
                log.info(
                    "target answers not-found, confirming before alerting target=%s streak=%d",
                    target.ref,
                    streak,
                )
                soon = now + timedelta(
                    seconds=min(self.settings.retry_base, self.settings.check_interval)
                )
                await self._record(
                    target,
                    FailureRecord(
                        target.id,
                        now,
                        soon,
                        reason="unconfirmed-gone",
                        message=result.reason,
                        failures=target.failures,
                        gone_streak=streak,
                    ),
                )
                return CheckOutcome(target.ref, CheckStatus.UNCONFIRMED, message=result.reason)
            result = Observation(facts={"exists": False, "partial": True})
        return await self._compare(target, source, prev, result, now)

    async def _record(self, target: TargetRow, record: CheckRecord | FailureRecord) -> None:
        """Record a check with the others finishing now, fenced by our lease (and, for a
        success, by the snapshot it started from: ``expected_snapshot``); ``LeaseLost`` when
        the fence failed and nothing was recorded."""
        if not await self._writer.submit(record):
            raise LeaseLost(target.id, self.owner)

    async def _latest(self, target: TargetRow) -> SnapshotRow | None:
        if target.latest_snapshot_id is None:
            return None
        return await self._snapshots.submit(target.latest_snapshot_id)

    async def _subscriptions(self, target: TargetRow) -> list[SubscriptionRow]:
        context = self._context.get(target.id)
        if context is None:
            return await call(self.store.subscriptions_for, target.id)
        return context.subscriptions.get(target.id, [])

    async def _compare(
        self, target: TargetRow, source: Source, prev: Any, obs: Observation, now: datetime
    ) -> CheckOutcome:
        facts = dict(obs.facts)
        if facts.pop("partial", False) and prev is not None:
            facts = {**prev.facts, **facts}
        if isinstance(source, StreamSource | ViewSource):  # e.g. a feed's seen entry ids
            facts = source.carry(prev.facts if prev is not None else None, facts)
        obs = Observation(facts=facts, evidence=obs.evidence, validators=obs.validators)
        # What the check had to leave out (a feed cut to its newest entries): said, not hidden.
        note = obs.evidence.get("note") if isinstance(obs.evidence.get("note"), str) else None
        recovery = await self._recovery(target, now)
        next_at = self._next_ok(now)
        expected = target.latest_snapshot_id
        if prev is None:
            await self._record(
                target,
                CheckRecord(
                    target.id, now, next_at, obs, queue=tuple(recovery), expected_snapshot=expected
                ),
            )
            return CheckOutcome(target.ref, CheckStatus.BASELINE, facts=facts, message=note)
        if prev.digest == obs.digest:
            await self._record(
                target,
                CheckRecord(
                    target.id,
                    now,
                    next_at,
                    obs,
                    queue=tuple(recovery),
                    new_snapshot=False,
                    expected_snapshot=expected,
                ),
            )
            return CheckOutcome(target.ref, CheckStatus.UNCHANGED, facts=facts, message=note)
        earlier = await self._earlier.submit((target.id, prev.id))
        history = History(
            earlier=earlier.facts if earlier is not None else None,
            prev_since=prev.taken_at,
            now=now,
        )
        queue = list(recovery)
        if isinstance(source, ViewSource):  # a page: each subscription's own view
            found, owed = await self._per_view(target, source, prev.facts, obs, history, now)
            queue.extend(owed)
        # A diff of big texts is CPU work: off the loop that acks commands (invariant 10).
        elif (found := await asyncio.to_thread(source.detect, prev.facts, facts, history)) and (
            isinstance(source, StreamSource)
        ):
            queue.extend(await self._per_subscription(target, source, found, facts, now))
        elif found:
            ref = target.target_ref
            alert = alert_for(
                target.ref,
                source.label(ref),
                found,
                links=source.links(ref, obs.evidence),
                detected_at=now,
            )
            subs = await self._subscriptions(target)
            queue.extend(await self._timed(alert, subs, now))
        if found:
            for change in found:
                log.info(
                    "change detected target=%s kind=%s severity=%s summary=%r",
                    target.ref,
                    change.kind.value,
                    change.severity.value,
                    change.summary,
                )
        await self._record(
            target,
            CheckRecord(
                target.id, now, next_at, obs, tuple(found), tuple(queue), expected_snapshot=expected
            ),
        )
        status = CheckStatus.CHANGED if found else CheckStatus.UNCHANGED
        return CheckOutcome(
            target.ref,
            status,
            tuple(found),
            facts=facts,
            message=note,
            queued=len(queue) - len(recovery),
        )

    async def _per_subscription(
        self,
        target: TargetRow,
        source: StreamSource,
        found: Sequence[Change],
        facts: Mapping[str, Any],
        now: datetime,
    ) -> list[NewDelivery]:
        """Each subscription's own alerts (its filters, one per item or grouped), from the
        one fetch; muting and minimum severity apply per alert as for other sources."""
        queue: list[NewDelivery] = []
        for sub in await self._subscriptions(target):
            for alert in source.announce(target.target_ref, found, facts, sub.options, now):
                queue.extend(await self._timed(alert, [sub], now))
        return queue

    async def _views(self, target: TargetRow, source: ViewSource) -> Views:
        """The distinct views the target's subscriptions ask for, by key."""
        subs = await self._subscriptions(target)
        return {source.view_key(s.options): s.options for s in subs}

    async def _per_view(
        self,
        target: TargetRow,
        source: ViewSource,
        prev: Mapping[str, Any],
        obs: Observation,
        history: History,
        now: datetime,
    ) -> tuple[list[Change], list[NewDelivery]]:
        """Each view compared on its own, and each subscription told about its own view
        only (the shape of :meth:`_per_subscription`, grouped by view). A view without a
        previous version is a silent baseline; a view that starts (or stops) failing on its
        own tells its subscriptions once, while the other views go on."""
        by_view: dict[str, list[SubscriptionRow]] = {}
        for sub in await self._subscriptions(target):
            by_view.setdefault(source.view_key(sub.options), []).append(sub)
        ref = target.target_ref
        label = source.label(ref)
        found: list[Change] = []
        queue: list[NewDelivery] = []
        earlier = history.earlier
        for key, subs in by_view.items():
            old, new = source.view_facts(prev, key), source.view_facts(obs.facts, key)
            if new is None:
                continue  # subscribed while this check ran: its baseline comes next check
            error = new.get("error")
            if error and (old is None or not old.get("error")):
                health = [health_change(True, error["reason"], error["message"], 1, None)]
            elif old is not None and old.get("error") and not error:
                health = [health_change(False, old["error"]["reason"], "", 1, None)]
            else:
                health = []
            for change in health:
                alert = alert_for(target.ref, label, [change], detected_at=now, actions=False)
                queue.extend(await self._timed(alert, subs, now, health=True))
            changes: list[Change] = []
            if old is not None:  # None: the first version of this view, a silent baseline
                view_history = replace(
                    history, earlier=source.view_facts(earlier, key) if earlier else None
                )
                changes = await asyncio.to_thread(source.detect, old, new, view_history)
            if changes:
                alert = alert_for(
                    target.ref,
                    label,
                    changes,
                    links=source.links(ref, obs.evidence),
                    detected_at=now,
                )
                queue.extend(await self._timed(alert, subs, now))
            found.extend(replace(c, view=key) for c in [*health, *changes])
        return found, queue

    async def _timed(
        self, alert: Alert, subs: Sequence[SubscriptionRow], now: datetime, *, health: bool = False
    ) -> list[NewDelivery]:
        """Who hears of ``alert`` (:func:`route`) and when (:func:`bot.alerts.timing.decide`: now,
        in the channel's next digest, or when its quiet hours end)."""
        heard = [s for s in subs if route(alert.severity, [s], now, health=health)]
        names = [s.channel for s in heard]
        if all(name in self._prefs for name in names):  # loaded with the batch
            prefs: Mapping[str, ChannelPrefs] = self._prefs
        else:
            prefs = await call(channel_prefs, self.store, names)
        queue: list[NewDelivery] = []
        for sub in heard:
            timing = decide(alert.severity, sub.options, prefs[sub.channel], now)
            due = timing.due if timing.status != "pending" else None
            queue.append(NewDelivery(sub.channel, alert.to_json(), timing.status, due))
        return queue

    async def _recovery(self, target: TargetRow, now: datetime) -> list[NewDelivery]:
        """The one "watch recovered" message owed after a health alert."""
        if target.failures and (target.health_alerted or target.failures > 1):
            log.info("target recovered target=%s after_failures=%d", target.ref, target.failures)
        if not target.health_alerted:
            return []
        change = health_change(
            False, target.last_error_reason or "failing", "", target.failures, None
        )
        return await self._health_deliveries(target, change, now)

    async def _health_deliveries(
        self, target: TargetRow, change: Change, now: datetime
    ) -> list[NewDelivery]:
        source = self.sources.get(target.kind)
        label = source.label(target.target_ref) if source else target.kind
        alert = alert_for(target.ref, label, [change], detected_at=now, actions=False)
        subs = await self._subscriptions(target)
        return await self._timed(alert, subs, now, health=True)

    async def _failed(
        self, target: TargetRow, reason: str, message: str, retry_after: float | None = None
    ) -> CheckOutcome:
        now = self.clock()
        failures = target.failures + 1
        if target.failures == 0 or reason != target.last_error_reason:
            log.warning(
                "check failed target=%s reason=%s: %s (retrying with backoff; repeats "
                "are logged at debug level)",
                target.ref,
                reason,
                message,
            )
        else:
            log.debug(
                "check failed again target=%s reason=%s failures=%d", target.ref, reason, failures
            )
        queue: list[NewDelivery] = []
        found: list[Change] = []
        alerted = target.health_alerted
        # Being asked to slow down is the upstream working as designed, not a broken watch.
        counts_for_health = reason != "rate-limited"
        if (
            counts_for_health
            and failures >= self.settings.health_after_failures
            and not target.health_alerted
        ):
            since = target.last_checked_at if target.failures == 0 else None
            change = health_change(True, reason, message, failures, since)
            queue = await self._health_deliveries(target, change, now)
            found = [change]
            alerted = True
            log.warning(
                "watch is failing, channels told target=%s failures=%d reason=%s",
                target.ref,
                failures,
                reason,
            )
        next_at = next_check_after_failure(
            now,
            failures,
            base=self.settings.retry_base,
            max_backoff=self.settings.max_backoff,
            retry_after=retry_after,
            rng=self.rng,
        )
        await self._record(
            target,
            FailureRecord(
                target.id,
                now,
                next_at,
                reason=reason,
                message=message,
                failures=failures,
                gone_streak=0,
                found=tuple(found),
                queue=tuple(queue),
                health_alerted=alerted,
            ),
        )
        return CheckOutcome(
            target.ref,
            CheckStatus.FAILED,
            tuple(found),
            message=message,
            reason=reason,
            queued=len(queue),
        )

    def _next_ok(self, now: datetime) -> datetime:
        return next_check_after_success(
            now, self.settings.check_interval, self.settings.check_jitter, self.rng
        )


__all__ = ["CheckOutcome", "Checker", "CycleResult", "route"]
