"""The imperative shell of a check: fetch → normalise → detect → ONE transaction.

Everything that decides is pure and lives elsewhere (sources' ``detect``, the watch's health in
:mod:`bot.detect.health`, who hears of an alert in :mod:`bot.alerts.audience` and when in
:mod:`bot.alerts.timing`, :mod:`bot.alerts.compose`, :mod:`bot.check.schedule`); this module only
moves data between the source, the store and the outbox, and turns every failure into a recorded
value so one bad target never stops a tick.

A claimed batch is a :class:`_Batch` of its own (what its checks read, loaded once; the quiet
checks it records at its end; the leases it renews), so batches that run at the same time on one
Checker (the scheduler's tick, a check a Hub webhook asked for) never share one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from bot.alerts.audience import audience
from bot.alerts.compose import alert_for
from bot.alerts.timing import ChannelPrefs, decide
from bot.check.schedule import next_check_after_failure, next_check_after_success
from bot.config import Settings
from bot.detect.health import (
    Answered,
    Failed,
    Health,
    Rules,
    Step,
    Vanished,
    Verdict,
    step,
    view_health,
)
from bot.detect.history import History
from bot.domain.errors import SourceError
from bot.domain.model import (
    Alert,
    Change,
    CheckStatus,
    Gone,
    NotModified,
    Observation,
    Validators,
)
from bot.i18n import joined, msg, nmsg
from bot.sources.base import (
    Detected,
    Source,
    StreamSource,
    Views,
    ViewSource,
    is_stream_source,
    is_view_source,
)
from bot.store import NewDelivery, QuietCheck, SnapshotRow, Store, SubscriptionRow, TargetRow
from bot.store.checks import CheckRecord, FailureRecord
from bot.store.claims import LeaseLost
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
        parts = [
            nmsg(
                "checked {n} target: {changed} changed, {failed} failed, {quiet} unchanged or "
                "baseline",
                "checked {n} targets: {changed} changed, {failed} failed, {quiet} unchanged or "
                "baseline",
                len(self.outcomes),
                changed=changed,
                failed=failed,
                quiet=quiet,
            ),
            nmsg("{n} alert queued", "{n} alerts queued", alerts),
        ]
        if self.busy:
            parts.append(msg("{n} busy in another process", n=self.busy))
        if lost:
            parts.append(msg("{n} taken over by another process", n=lost))
        return joined("; ", parts)  # a message: the chat ``check`` says it in the asker's language


class _Latest:
    """A check's latest snapshot, read at most once, by whichever asks first: a view source
    asks before extracting (to compare each view in the same job), the check after the
    fetch in any case. Never read after a 304 or an identical body."""

    def __init__(self, read: Callable[[], Awaitable[SnapshotRow | None]]) -> None:
        self._read = read
        self._row: SnapshotRow | None = None
        self._done = False

    async def get(self) -> SnapshotRow | None:
        if not self._done:  # one check's reads come one after the other, never together
            self._row = await self._read()
            self._done = True
        return self._row

    async def facts(self) -> Mapping[str, Any] | None:
        """The latest snapshot's facts (None without one), what ``fetch_views`` compares."""
        row = await self.get()
        return row.facts if row is not None else None


@dataclass(slots=True)
class _Batch:
    """One claimed batch of checks, created by :meth:`Checker.check_targets` and never shared.

    It holds what its checks read, loaded once for all of them (subscriptions by target, their
    channels' settings), the targets whose leases it renews while they run, and the quiet checks
    (nothing found, nothing owed) it records together at its end.
    """

    subscriptions: Mapping[int, list[SubscriptionRow]]
    prefs: Mapping[str, ChannelPrefs]
    in_flight: set[int]  # claimed and not yet recorded: their leases are renewed
    quiet: list[QuietCheck] = field(default_factory=list)
    quiet_ids: set[int] = field(default_factory=set)  # of ``quiet``: a lookup, not a scan

    def check_of(self, target: TargetRow) -> _Check:
        return _Check(target, tuple(self.subscriptions.get(target.id, ())), self)

    def add_quiet(self, check: QuietCheck) -> None:
        self.quiet.append(check)
        self.quiet_ids.add(check.target_id)

    def quiet_pending(self, target_id: int) -> bool:
        return target_id in self.quiet_ids


@dataclass(frozen=True, slots=True)
class _Check:
    """One target's check, with what it reads: its subscriptions (taken from the batch once)."""

    target: TargetRow
    subs: tuple[SubscriptionRow, ...]
    batch: _Batch

    @property
    def health(self) -> Health:
        t = self.target
        return Health(
            t.failures, t.last_error_reason, t.health_alerted, t.gone_streak, t.last_checked_at
        )


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
        self.rules = Rules(settings.health_after_failures, settings.gone_confirmations)
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._lease = timedelta(seconds=settings.lease_seconds)
        # Claimed, but the database went away before the outcome was recorded: handed back at
        # the next tick (of any batch) instead of staying leased for the whole lease period.
        self._unrecorded: set[int] = set()
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

    async def check_targets(self, targets: Sequence[TargetRow]) -> list[CheckOutcome]:
        """Check claimed ``targets`` as one batch: what they read is loaded once (subscriptions,
        channel settings), their leases are renewed while they run, and the quiet ones are
        recorded together at the end."""
        try:
            context = await call(self.store.prefetch, targets)
        except sa.exc.SQLAlchemyError:
            self._unrecorded.update(t.id for t in targets)
            raise
        batch = _Batch(context.subscriptions, context.prefs, {t.id for t in targets})
        renewer = asyncio.create_task(
            keep_renewed(
                self._lease.total_seconds(),
                lambda: batch.in_flight,
                lambda ids: self.store.renew_targets(ids, self.owner, self.clock(), self._lease),
                "check",
            )
        )
        try:
            results = await asyncio.gather(
                *(self._guarded(batch.check_of(t)) for t in targets), return_exceptions=True
            )
        except BaseException:  # cancelled: the quiet checks are not recorded; hand them back
            self._unrecorded.update(q.target_id for q in batch.quiet)
            raise
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
        # Quiet checks (304 / same bytes, nothing owed) share one transaction: they only move a
        # schedule. Checks that found something were recorded already.
        try:
            await call(self.store.record_quiet, batch.quiet, owner=self.owner)
        except sa.exc.SQLAlchemyError:
            self._unrecorded.update(q.target_id for q in batch.quiet)
            raise
        failed = [
            (t, r) for t, r in zip(targets, results, strict=True) if isinstance(r, BaseException)
        ]
        if failed:  # only database errors get here (_guarded turns the rest into outcomes)
            self._unrecorded.update(t.id for t, _r in failed)
            raise failed[0][1]
        return [r for r in results if isinstance(r, CheckOutcome)]

    async def _release_unrecorded(self) -> None:
        if self._unrecorded:
            await call(self.store.release_targets, set(self._unrecorded), self.owner)
            self._unrecorded.clear()

    async def _guarded(self, c: _Check) -> CheckOutcome:
        target = c.target
        try:
            async with self._slots:
                started = time.perf_counter()
                try:
                    outcome = await self._check(c)
                    return replace(outcome, seconds=time.perf_counter() - started)
                except sa.exc.SQLAlchemyError:
                    raise  # the database is down: nothing can be recorded; the tick is retried
                except LeaseLost:
                    raise
                except Exception as e:  # a bug must cost one target one check, never the tick
                    log.exception("check crashed target=%s", target.ref)
                    return await self._failed(
                        c, Failed("internal", f"internal error: {type(e).__name__}")
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
            if not c.batch.quiet_pending(target.id):  # else recorded, and let go, at batch end
                c.batch.in_flight.discard(target.id)

    async def _check(self, c: _Check) -> CheckOutcome:
        target = c.target
        source = self.sources.get(target.kind)
        if source is None:
            return await self._failed(
                c, Failed("unsupported", f"no source for {target.kind}: targets in this version")
            )
        ref = target.target_ref
        validators = Validators(target.etag, target.last_modified, target.body_digest)
        latest = _Latest(lambda: self._latest(target))
        try:
            if is_view_source(source):  # one fetch, one extraction (and comparison) per view
                result = await source.fetch_views(
                    ref, validators, lambda: self._views(c, source), latest.facts
                )
            else:
                result = await source.fetch(ref, validators, target.options)
        except SourceError as e:
            return await self._failed(c, Failed(e.reason, e.message), e.retry_after)
        now = self.clock()
        if isinstance(result, NotModified):
            health = step(c.health, Answered(), self.rules, now)
            recovery = self._recovery(c, health, now)
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
                c.batch.add_quiet(
                    QuietCheck(target.id, now, self._next_ok(now), v.etag, v.last_modified)
                )
            return CheckOutcome(target.ref, CheckStatus.NOT_MODIFIED)
        prev = await latest.get()
        if isinstance(result, Gone):
            known_as: Literal["present", "gone"] | None = None
            if prev is not None:
                known_as = "present" if prev.facts.get("exists", True) else "gone"
            health = step(c.health, Vanished(result.reason, known_as), self.rules, now)
            if health.verdict is Verdict.FAILED:  # never seen: a failure, not a deletion
                return await self._record_failure(c, health, result.reason, now)
            if health.verdict is Verdict.UNCONFIRMED:
                return await self._unconfirmed(c, health, result.reason, now)
            if health.verdict is Verdict.STILL_GONE:
                await self._record(  # nothing new to say
                    target,
                    CheckRecord(
                        target.id,
                        now,
                        self._next_ok(now),
                        None,
                        queue=tuple(self._recovery(c, health, now)),
                        expected_snapshot=target.latest_snapshot_id,
                    ),
                )
                facts = prev.facts if prev is not None else None
                return CheckOutcome(target.ref, CheckStatus.UNCHANGED, facts=facts)
            result = Observation(facts={"exists": False, "partial": True})  # Verdict.GONE
        else:
            health = step(c.health, Answered(), self.rules, now)
        return await self._compare(c, source, prev, result, health, now)

    async def _unconfirmed(
        self, c: _Check, health: Step, message: str, now: datetime
    ) -> CheckOutcome:
        """A target that existed is "not there" once more: asked again soon, nothing said."""
        target = c.target
        log.info(
            "target answers not-found, confirming before alerting target=%s streak=%d",
            target.ref,
            health.after.gone_streak,
        )
        soon = now + timedelta(seconds=min(self.settings.retry_base, self.settings.check_interval))
        await self._record(
            target,
            FailureRecord(
                target.id,
                now,
                soon,
                reason=health.after.reason or "",
                message=message,
                failures=health.after.failures,
                gone_streak=health.after.gone_streak,
                health_alerted=health.after.alerted,
            ),
        )
        return CheckOutcome(target.ref, CheckStatus.UNCONFIRMED, message=message)

    async def _record(self, target: TargetRow, record: CheckRecord | FailureRecord) -> None:
        """Record a check with the others finishing now, fenced by our lease (and, for a
        success, by the snapshot it started from: ``expected_snapshot``); ``LeaseLost`` when
        the fence failed and nothing was recorded."""
        if not await self._writer.submit(record):
            raise LeaseLost(target.id, self.owner)

    async def _latest(self, target: TargetRow) -> SnapshotRow | None:
        """The target's latest snapshot; a check reads it once, and only after a new answer."""
        if target.latest_snapshot_id is None:
            return None
        return await self._snapshots.submit(target.latest_snapshot_id)

    async def _compare(
        self,
        c: _Check,
        source: Source,
        prev: Any,
        obs: Observation,
        health: Step,
        now: datetime,
    ) -> CheckOutcome:
        target = c.target
        # Views a source compared already, in the job that extracted them (prev is the
        # snapshot it compared with: read once per check, see _Latest).
        detected = obs.detected if isinstance(obs, Detected) else {}
        facts = dict(obs.facts)
        if facts.pop("partial", False) and prev is not None:
            facts = {**prev.facts, **facts}
        if is_stream_source(source) or is_view_source(source):  # e.g. a feed's seen entry ids
            facts = source.carry(prev.facts if prev is not None else None, facts)
        obs = Observation(facts=facts, evidence=obs.evidence, validators=obs.validators)
        # What the check had to leave out (a feed cut to its newest entries): said, not hidden.
        note = obs.evidence.get("note") if isinstance(obs.evidence.get("note"), str) else None
        recovery = self._recovery(c, health, now)
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
        # The snapshot before the previous one, for sources whose detection reads it (a
        # licence "reverted"); a page's does not, and it is not read (nor its JSON decoded).
        earlier = (
            None
            if is_view_source(source) and not source.reads_earlier
            else await self._earlier.submit((target.id, prev.id))
        )
        history = History(
            earlier=earlier.facts if earlier is not None else None,
            prev_since=prev.taken_at,
            now=now,
        )
        queue = list(recovery)
        if is_view_source(source):  # a page: each subscription's own view
            found, owed = await self._per_view(c, source, prev.facts, obs, history, now, detected)
            queue.extend(owed)
        # A diff of big texts is CPU work: off the loop that acks commands (invariant 10).
        elif (found := await asyncio.to_thread(source.detect, prev.facts, facts, history)) and (
            is_stream_source(source)
        ):
            queue.extend(self._per_subscription(c, source, found, facts, now))
        elif found:
            ref = target.target_ref
            alert = alert_for(
                target.ref,
                source.label(ref),
                found,
                links=source.links(ref, obs.evidence),
                detected_at=now,
            )
            queue.extend(self._timed(c, alert, c.subs, now))
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

    def _per_subscription(
        self,
        c: _Check,
        source: StreamSource,
        found: Sequence[Change],
        facts: Mapping[str, Any],
        now: datetime,
    ) -> list[NewDelivery]:
        """Each subscription's own alerts (its filters, one per item or grouped), from the
        one fetch; muting and minimum severity apply per alert as for other sources."""
        queue: list[NewDelivery] = []
        for sub in c.subs:
            for alert in source.announce(c.target.target_ref, found, facts, sub.options, now):
                queue.extend(self._timed(c, alert, [sub], now))
        return queue

    async def _views(self, c: _Check, source: ViewSource) -> Views:
        """The distinct views the target's subscriptions ask for, by key."""
        return {source.view_key(s.options): s.options for s in c.subs}

    async def _per_view(
        self,
        c: _Check,
        source: ViewSource,
        prev: Mapping[str, Any],
        obs: Observation,
        history: History,
        now: datetime,
        detected: Mapping[str, list[Change]],
    ) -> tuple[list[Change], list[NewDelivery]]:
        """Each view compared on its own, and each subscription told about its own view
        only (the shape of :meth:`_per_subscription`, grouped by view). A view without a
        previous version is a silent baseline; a view that starts (or stops) failing on its
        own tells its subscriptions once (:func:`bot.detect.health.view_health`), while the
        other views go on."""
        by_view: dict[str, list[SubscriptionRow]] = {}
        for sub in c.subs:
            by_view.setdefault(source.view_key(sub.options), []).append(sub)
        target = c.target
        ref = target.target_ref
        label = source.label(ref)
        earlier = history.earlier
        told: dict[str, Change | None] = {}
        pairs: dict[str, tuple[Any, Any, History]] = {}
        for key in by_view:
            old, new = source.view_facts(prev, key), source.view_facts(obs.facts, key)
            if new is None:
                continue  # subscribed while this check ran: its baseline comes next check
            told[key] = view_health(old, new)
            if old is not None:  # None: the first version of this view, a silent baseline
                view_history = replace(
                    history, earlier=source.view_facts(earlier, key) if earlier else None
                )
                pairs[key] = (old, new, view_history)
        # Every view not compared yet (``detected``: by the job that extracted it), in one
        # job off the loop (a worker process when there are any): CPU work that, in a thread
        # of this process, took the GIL from the event loop.
        rest = {key: pair for key, pair in pairs.items() if key not in detected}
        if rest:
            detected = {**detected, **(await source.detect_views(rest))}
        found: list[Change] = []
        queue: list[NewDelivery] = []
        for key, change in told.items():
            subs = by_view[key]
            health = [change] if change is not None else []
            for said in health:
                alert = alert_for(target.ref, label, [said], detected_at=now, actions=False)
                queue.extend(self._timed(c, alert, subs, now, health=True))
            changes = detected.get(key, [])
            if changes:
                alert = alert_for(
                    target.ref,
                    label,
                    changes,
                    links=source.links(ref, obs.evidence),
                    detected_at=now,
                )
                queue.extend(self._timed(c, alert, subs, now))
            found.extend(replace(ch, view=key) for ch in [*health, *changes])
        return found, queue

    def _timed(
        self,
        c: _Check,
        alert: Alert,
        subs: Sequence[SubscriptionRow],
        now: datetime,
        *,
        health: bool = False,
    ) -> list[NewDelivery]:
        """Who hears of ``alert`` (:func:`bot.alerts.audience.audience`) and when
        (:func:`bot.alerts.timing.decide`: now, in the channel's next digest, or when its quiet
        hours end), with the channels' settings the batch loaded."""
        queue: list[NewDelivery] = []
        payload: dict[str, Any] | None = None  # one alert, as data once: every channel reads it
        for sub in audience(alert.severity, subs, now, health=health):
            timing = decide(alert.severity, sub.options, c.batch.prefs[sub.channel], now)
            due = timing.due if timing.status != "pending" else None
            if payload is None:
                payload = alert.to_json()
            queue.append(NewDelivery(sub.channel, payload, timing.status, due))
        return queue

    def _recovery(self, c: _Check, health: Step, now: datetime) -> list[NewDelivery]:
        """The one "watch recovered" message owed after a health alert, if ``health`` owes it."""
        target = c.target
        if target.failures and (target.health_alerted or target.failures > 1):
            log.info("target recovered target=%s after_failures=%d", target.ref, target.failures)
        if health.recovered is None:
            return []
        return self._health_deliveries(c, health.recovered, now)

    def _health_deliveries(self, c: _Check, change: Change, now: datetime) -> list[NewDelivery]:
        source = self.sources.get(c.target.kind)
        label = source.label(c.target.target_ref) if source else c.target.kind
        alert = alert_for(c.target.ref, label, [change], detected_at=now, actions=False)
        return self._timed(c, alert, c.subs, now, health=True)

    async def _failed(
        self, c: _Check, failure: Failed, retry_after: float | None = None
    ) -> CheckOutcome:
        now = self.clock()
        health = step(c.health, failure, self.rules, now)
        return await self._record_failure(c, health, failure.message, now, retry_after)

    async def _record_failure(
        self,
        c: _Check,
        health: Step,
        message: str,
        now: datetime,
        retry_after: float | None = None,
    ) -> CheckOutcome:
        target = c.target
        after = health.after
        reason = after.reason or ""
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
                "check failed again target=%s reason=%s failures=%d",
                target.ref,
                reason,
                after.failures,
            )
        queue: list[NewDelivery] = []
        found: list[Change] = []
        if health.failing is not None:
            queue = self._health_deliveries(c, health.failing, now)
            found = [health.failing]
            log.warning(
                "watch is failing, channels told target=%s failures=%d reason=%s",
                target.ref,
                after.failures,
                reason,
            )
        next_at = next_check_after_failure(
            now,
            after.failures,
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
                failures=after.failures,
                gone_streak=after.gone_streak,
                found=tuple(found),
                queue=tuple(queue),
                health_alerted=after.alerted,
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


__all__ = ["CheckOutcome", "Checker", "CycleResult"]
