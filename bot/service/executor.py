"""The executor behind every front end: runs Commands against the store, checker and outbox.

The CLI, Slack and Discord build an :class:`Invocation` (who, where, may they change watches)
and call :meth:`Service.run_text`, :meth:`Service.execute` or :meth:`Service.check_now`; they get
a neutral :class:`~bot.commands.grammar.Reply` back. Nothing here knows any chat platform.

The store, checker and dispatcher are the Service's own: front ends and the runtime (the
scheduler, the Hub webhook, the ops server) ask the Service's methods, never its parts
(tests/test_architecture.py), so a rule like "a check delivers what it found at once" lives
in one place.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from bot.alerts import timing as routing
from bot.alerts.timing import CADENCES
from bot.check.checker import Checker, CheckOutcome, CycleResult
from bot.commands import grammar as cmds
from bot.commands.invocation import Invocation
from bot.commands.scope import Scope
from bot.commands.validation import check_target, check_view, option_problems
from bot.config import Settings
from bot.deliver.dispatcher import Adapter, Dispatcher, DispatchResult
from bot.domain.errors import InvalidTarget, SourceError, UsageError
from bot.domain.model import Severity, TargetRef
from bot.domain.refs import parse_channel, parse_target, preset_name
from bot.i18n import joined, msg, nmsg, pick_language
from bot.net import Guard, check_url, check_webhook_url
from bot.service.progress import Report, silent
from bot.service.watch_lists import WatchLists, subscription_options, view_options
from bot.sources.base import Sniffer, Source, StreamSource, ViewSource
from bot.store import NewDelivery, SnapshotRow, Store, SubscriptionRow, TargetRow, tenants
from bot.store.held import channel_prefs, held_count, set_digest_time, set_quiet
from bot.store.owner import heartbeat_name
from bot.store.threads import call
from bot.text.diff import unified

if TYPE_CHECKING:  # the evidence site is built only by `policybot run` with a signing key
    from bot.commands.watchlist import WatchEntry  # watch lists: import/export/run only
    from bot.evidence.links import Signer
    from bot.evidence.site import EvidenceSite

log = logging.getLogger(__name__)


@runtime_checkable
class Listener(Protocol):
    """An adapter that also receives commands (Slack Socket Mode, the Discord gateway)."""

    async def listen(self, service: Service) -> None:
        """Serve until cancelled."""


class Service:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        sources: Mapping[str, Source],
        adapters: Mapping[str, Adapter],
        clock: Callable[[], datetime],
        owner: str,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sources = sources
        self.clock = clock
        self.checker = Checker(store, sources, settings, clock, owner)
        self.dispatcher = Dispatcher(store, adapters, settings, clock, owner)
        self._hub_hosts = frozenset({_host(settings.hf_endpoint)})
        self.tenants = tenants.Tenants(store)  # workspaces, for the chat adapters
        self.watch_lists = WatchLists(settings, store, clock, self.parse_ref)

    async def aclose(self) -> None:
        """Close the sources, the adapters that hold HTTP sessions, and the store."""
        for source in self.sources.values():
            await source.aclose()
        for adapter in self.dispatcher.adapters.values():
            close = getattr(adapter, "aclose", None)  # adapters that hold HTTP sessions
            if close is not None:
                await close()
        self.store.close()

    # -- text entry point (chat) ------------------------------------------------------

    async def run_text(self, text: str, inv: Invocation) -> cmds.Reply:
        try:
            command = cmds.parse(text, allow_to=inv.allow_to)
        except UsageError as e:
            return await self.localized(cmds.Reply((e.message,), ok=False), inv)
        return await self.execute(command, inv)

    async def execute(self, command: cmds.Command, inv: Invocation) -> cmds.Reply:
        """Run ``command`` for ``inv``; the reply is said in the asker's language."""
        reply = await self._execute(command, inv)
        workspace = command.workspace if isinstance(command, cmds.WorkspaceSettings) else None
        return await self.localized(reply, inv, workspace)

    async def localized(
        self, reply: cmds.Reply, inv: Invocation, workspace: str | None = None
    ) -> cmds.Reply:
        """``reply`` to be said in the asker's language (:meth:`reply_language`): front ends
        pass their own answers (refusals, typos) through here too."""
        try:
            lang = await call(self.reply_language, inv, workspace)
        except Exception:  # e.g. the database is gone: the apology must still be said
            log.warning("cannot read the asker's language; answering in the default one")
            lang = pick_language(self.settings.default_language)
        return dataclasses.replace(reply, language=lang)

    def reply_language(self, inv: Invocation, workspace: str | None = None) -> str:
        """The language a command's reply is said in, the one place every front end asks:
        the workspace's setting (``/policy settings language``), then what the platform says
        the asker reads (a Discord user's client, then the server's locale), then the
        operator's ``POLICYBOT_DEFAULT_LANGUAGE``. The CLI has no workspace unless it names
        one (``settings --workspace``)."""
        chosen = tenants.WorkspaceSettings()
        named = workspace or self._workspace(inv)
        if named is not None:
            chosen = tenants.workspace_settings(self.store, named)
        return pick_language(
            chosen.language, *inv.locales, chosen.locale, self.settings.default_language
        )

    def refused(self, inv: Invocation) -> cmds.Reply:
        """The answer to a change the asker may not make (its language: :meth:`localized`)."""
        return cmds.Reply((msg("Refused: {why}.", why=inv.refusal),), ok=False)

    async def _execute(self, command: cmds.Command, inv: Invocation) -> cmds.Reply:
        if cmds.needs(command).changes_watches and not inv.may_change:
            return self.refused(inv)
        try:
            match command:
                case cmds.Watch():
                    return await self._watch(command, inv)
                # Handlers that only read and write the store run in a store thread, so a
                # database wait never freezes the loop that acks commands (invariant 10).
                case cmds.Unwatch():
                    return await call(self._unwatch, command, inv)
                case cmds.ListWatches():
                    return await call(self._list, command, inv)
                case cmds.History():
                    return await call(self._history, command, inv)
                case cmds.Diff():
                    return await call(self._diff, command, inv)
                case cmds.Check():
                    return await self._check(command, inv)
                case cmds.Mute():
                    return await call(self._mute, command, inv)
                case cmds.Presets():
                    return self.watch_lists.presets(command)
                case cmds.Digest() | cmds.Quiet():
                    return await call(self._delivery_settings, command, inv)
                case cmds.WorkspaceSettings():
                    return await call(self._workspace_settings, command, inv)
                case cmds.Help():
                    return cmds.Reply(cmds.HELP_TEXT)
        except UsageError as e:
            return cmds.Reply((e.message,), ok=False)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    # -- the commands -------------------------------------------------------------------

    async def _watch(self, command: cmds.Watch, inv: Invocation) -> cmds.Reply:
        channel = self._channel(command.to, inv)
        workspace = self._workspace(inv)
        if workspace is not None and command.to is None:
            tenants.note_channel_workspace(self.store, channel, workspace)
            chosen = tenants.workspace_settings(self.store, workspace).min_severity
            if chosen and not command.min_severity_given:  # the workspace's default
                command = dataclasses.replace(command, min_severity=Severity(chosen))
        if channel.split(":", 1)[0].endswith("webhook"):  # its URL: the SSRF gate, https
            check_webhook_url(channel.split(":", 1)[1], Guard.from_settings(self.settings))
        problems = self.watch_problems(command)
        if problems:  # before any fetch; Discord and the CLI build Watch without the parser
            return cmds.Reply((*problems, msg("Nothing was watched.")), ok=False)
        lines: list[str] = []
        ok = True
        for text in command.refs:
            try:
                name = preset_name(text)
                if name is not None:
                    preset_lines, good = self.watch_lists.watch_preset(name, channel, command, inv)
                    lines.extend(preset_lines)
                    ok = ok and good
                    continue
                ref = await self.resolve_ref(text)
                self._check_options(ref, command)
            except InvalidTarget as e:
                lines.append(joined("", ["✗ ", e.message]))
                ok = False
                continue
            line, good = await self._watch_one(ref, channel, command, inv)
            lines.append(line)
            ok = ok and good
        return cmds.Reply(tuple(lines), ok=ok, ephemeral=False)

    async def _watch_one(
        self, ref: TargetRef, channel: str, command: cmds.Watch, inv: Invocation
    ) -> tuple[str, bool]:
        now = self.clock()
        target, created = self.store.ensure_target(ref, now)
        subs = self.store.subscriptions_for(target.id)
        mine = next((s for s in subs if s.channel == channel), None)
        view = view_options(ref, command.select, command.ignore, mine.options if mine else None)
        digest = command.digest if command.digest in CADENCES else None
        options = {**subscription_options(command.keywords, digest, command.digest_all), **view}
        source = self.sources[ref.kind]
        key: str | None = None
        rebaselined = False
        if isinstance(source, ViewSource):
            key = source.view_key(options)
            # Changing this channel's select/ignore re-baselines this channel's view only.
            rebaselined = mine is not None and key != source.view_key(mine.options)
            if not created and key not in {source.view_key(s.options) for s in subs}:
                self.store.refetch_in_full(target.id)  # a new view needs the body
        _sub, new_sub = self.store.subscribe(
            target.id,
            channel,
            now,
            created_by=inv.actor,
            min_severity=command.min_severity.value,
            options=options,
        )
        snapshot = self.store.latest_snapshot(target)
        outcome: list[CheckOutcome] = []
        if snapshot is None or _own_facts(source, snapshot.facts, key) is None:
            outcome = (await self.checker.check_ids([target.id])).outcomes
            forget = new_sub or created  # never drop a subscription the channel had
            if outcome and outcome[0].reason == "not-found" and forget:
                self._forget(target, channel, created)
                token = {"hf": "HF_TOKEN", "github": "GITHUB_TOKEN"}.get(ref.kind)
                said = msg(
                    "✗ {ref}: not found ({why}). It does not exist, or it is private. "
                    "Nothing was stored.",
                    ref=str(ref),
                    why=outcome[0].message or "",
                )
                if token:
                    said = msg(
                        "✗ {ref}: not found ({why}). It does not exist, or it is private (set "
                        "{token} for private repos). Nothing was stored.",
                        ref=str(ref),
                        why=outcome[0].message or "",
                        token=token,
                    )
                return said, False
            if outcome and outcome[0].reason == "unsafe-url" and forget:
                self._forget(target, channel, created)
                said = msg(
                    "✗ {ref}: refused: {why}. Nothing was stored.",
                    ref=str(ref),
                    why=outcome[0].message or "",
                )
                return said, False
            target = self.store.get_target_by_id(target.id) or target
            snapshot = self.store.latest_snapshot(target)
        facts = _own_facts(source, snapshot.facts, key) if snapshot else None
        if snapshot is None or facts is None or facts.get("error"):
            why: str = (
                outcome[0].message or ""
                if outcome
                else msg("it is being checked by another replica")
            )
            if facts is not None:  # only this view failed: its selector, say
                why = facts["error"]["message"]
            said = msg(
                "{watching} The first check did not succeed ({why}); the baseline will be "
                "taken when it does.",
                watching=_watching(new_sub, ref, channel),
                why=why,
            )
            return said, True
        parts = [_watching(new_sub, ref, channel)]
        if rebaselined:
            parts.append(msg(" Select/ignore changed: new baseline, no alert for this."))
        parts.append(self._digest_note(channel, command))
        # The baseline's description is the source's own words (as in history and diffs).
        parts.append(msg(" Baseline: {state}", state=source.describe(facts)))
        if command.backfill:
            parts.append(self._backfill(target, channel, command.backfill, snapshot.facts))
        return joined("", parts), True

    def _digest_note(self, channel: str, command: cmds.Watch) -> str:
        """``--digest``: say when this channel's digests go out (``--at``/``--tz`` set it)."""
        if command.digest not in CADENCES:
            return ""
        prefs = channel_prefs(self.store, [channel])[channel]
        if command.at or command.tz:
            at = routing.parse_clock(command.at) if command.at else prefs.digest_at
            set_digest_time(
                self.store, channel, at, command.tz or prefs.digest_tz, prefs.digest_weekday
            )
            prefs = channel_prefs(self.store, [channel])[channel]
        if command.digest_all:
            return msg(
                " Changes go to the {cadence} digest (critical ones too); this channel's "
                "{settings}.",
                cadence=_cadence(command.digest),
                settings=prefs.describe(),
            )
        return msg(
            " Changes go to the {cadence} digest (critical ones at once); this channel's "
            "{settings}.",
            cadence=_cadence(command.digest),
            settings=prefs.describe(),
        )

    def _backfill(self, target: TargetRow, channel: str, count: int, facts: Any) -> str:
        """``--backfill N``: the newest N items (that pass the filters), once, here only."""
        source = self.sources.get(target.kind)
        sub = next(
            (s for s in self.store.subscriptions_for(target.id) if s.channel == channel), None
        )
        if sub is None or not isinstance(source, StreamSource):
            return ""
        alerts = source.backfill(target.target_ref, facts, sub.options, count, self.clock())
        if not alerts:
            return msg(". Backfill: no entry passes this watch's keywords")
        self.store.queue_deliveries(
            target.id, self.clock(), [NewDelivery(channel, a.to_json()) for a in alerts]
        )
        return nmsg(
            ". Backfill: posting the newest entry now",
            ". Backfill: posting the newest {n} entries (at most) now",
            count,
        )

    def _forget(self, target: TargetRow, channel: str, created: bool) -> None:
        self.store.unsubscribe(target.id, channel)
        if created and not self.store.subscriptions_for(target.id):
            self.store.delete_target(target.id)

    def _unwatch(self, command: cmds.Unwatch, inv: Invocation) -> cmds.Reply:
        sub, target = self._scope(inv, command.to, own=True).subscription(command.ref)
        self.store.unsubscribe(target.id, sub.channel)
        said = msg("Stopped watching {ref} in {channel}.", ref=target.ref, channel=sub.channel)
        return cmds.Reply((said,), ephemeral=False)

    def _list(self, command: cmds.ListWatches, inv: Invocation) -> cmds.Reply:
        scope = self._scope(inv, command.to)
        channel = scope.channel
        watches = scope.watches()
        if not watches:
            if channel:
                return cmds.Reply(
                    (
                        msg(
                            "Nothing is watched in {channel}. Try: watch hf:owner/name",
                            channel=channel,
                        ),
                    )
                )
            return cmds.Reply((msg("Nothing is watched. Try: watch hf:owner/name"),))
        now = self.clock()
        lines: list[str] = []
        for sub, target in watches:
            state: str = msg("ok")
            if target.failures:
                state = msg(
                    "failing ({reason}: {error})",
                    reason=str(target.last_error_reason),
                    error=str(target.last_error),
                )
            elif target.latest_snapshot_id is None:
                state = msg("baseline pending")
            parts = [f"#{sub.id} {target.ref}"]
            if not channel:
                parts.append(f" → {sub.channel}")
            parts.append(
                msg(
                    " · {state} · checked {ago} · min severity {severity}",
                    state=state,
                    ago=_ago(now, target.last_checked_at),
                    severity=sub.min_severity,
                )
            )
            if sub.muted_until and sub.muted_until > now:
                until = f"{sub.muted_until:%Y-%m-%d %H:%M}"
                parts.append(msg(" · muted until {until} UTC", until=until))
            if sub.options.get("digest"):
                cadence = _cadence(str(sub.options["digest"]))
                parts.append(msg(" · {cadence} digest", cadence=cadence))
            lines.append(joined("", parts))
        return cmds.Reply(tuple(lines))

    def _history(self, command: cmds.History, inv: Invocation) -> cmds.Reply:
        scope = self._scope(inv)
        if command.ref is None:
            rows = scope.recent_changes(command.limit)
            if not rows:
                return cmds.Reply((msg("No changes recorded yet."),))
            return cmds.Reply(
                tuple(
                    f"{c.detected_at:%Y-%m-%d %H:%M} {ref} · {c.severity} · {c.kind} · {c.summary}"
                    for c, ref in rows
                )
            )
        target = scope.find(command.ref).target
        changes = self.store.view_history(
            target.id, self.view_of(target, inv.channel), command.limit
        )
        if not changes:
            said = msg(
                "No changes recorded for {ref} yet (the first check is a baseline).",
                ref=target.ref,
            )
            return cmds.Reply((said,))
        lines: list[str] = [msg("Changes of {ref}, newest first:", ref=target.ref)]
        for c in changes:
            lines.append(
                f"{c.detected_at:%Y-%m-%d %H:%M} UTC · {c.severity} · {c.kind} · {c.summary}"
            )
        return cmds.Reply(tuple(lines))

    def _diff(self, command: cmds.Diff, inv: Invocation) -> cmds.Reply:
        target = self._scope(inv).find(command.ref).target
        snaps = self.versions(target, inv.channel, 2)
        if not snaps:
            said = msg(
                "{ref} has not been checked yet: there is nothing to compare.", ref=target.ref
            )
            if target.last_error:
                said = msg(
                    "{ref} has not been checked yet (last attempt failed: {error}): there is "
                    "nothing to compare.",
                    ref=target.ref,
                    error=target.last_error,
                )
            return cmds.Reply((said,))
        if len(snaps) < 2:
            taken = f"{snaps[0].taken_at:%Y-%m-%d %H:%M} UTC"
            said = msg(
                "{ref} has only its baseline, taken {taken}; no change has been seen since, "
                "so there is nothing to compare.",
                ref=target.ref,
                taken=taken,
            )
            return cmds.Reply((said,))
        new, old = snaps[0], snaps[1]
        source = self.sources[target.kind]
        diff = unified(  # bounded whatever the sizes (invariant 10)
            source.lines(old.facts),
            source.lines(new.facts),
            (f"{old.taken_at:%Y-%m-%d %H:%M} UTC", f"{new.taken_at:%Y-%m-%d %H:%M} UTC"),
            max_lines=self.settings.diff_max_lines,
        )
        said = msg("{ref}: last two versions", ref=target.ref)
        return cmds.Reply((said,), code="\n".join(diff))

    async def _check(self, command: cmds.Check, inv: Invocation) -> cmds.Reply:
        scope = self._scope(inv)
        if command.refs:
            ids = [scope.find(ref).target.id for ref in command.refs]
        else:
            ids = sorted({t.id for _s, t in scope.watches()})
        if not ids:
            return cmds.Reply((msg("Nothing to check: no watches."),))
        result = await self.checker.check_ids(ids)
        lines = [result.summary()]
        for outcome in result.outcomes:
            for change in outcome.changes:
                lines.append(f"{outcome.ref}: {change.summary}")
            if outcome.status == "failed":
                failed = msg(
                    "{ref}: check failed ({why})", ref=str(outcome.ref), why=outcome.message or ""
                )
                lines.append(failed)
        return cmds.Reply(tuple(lines), details={"result": result})

    def _mute(self, command: cmds.Mute, inv: Invocation) -> cmds.Reply:
        sub, target = self._scope(inv, command.to, own=True).subscription(command.ref)
        if command.days <= 0:
            self.store.mute(sub.id, None)
            said = msg("Unmuted {ref} in {channel}.", ref=target.ref, channel=sub.channel)
            return cmds.Reply((said,), ephemeral=False)
        until = self.clock() + timedelta(days=command.days)
        self.store.mute(sub.id, until)
        said = msg(
            "Muted {ref} in {channel} until {until} UTC.",
            ref=target.ref,
            channel=sub.channel,
            until=f"{until:%Y-%m-%d %H:%M}",
        )
        return cmds.Reply((said,), ephemeral=False)

    def _delivery_settings(self, command: cmds.Digest | cmds.Quiet, inv: Invocation) -> cmds.Reply:
        """``digest`` and ``quiet``: a channel's digest time and quiet hours (or show them)."""
        channel = self._channel(command.to, inv)
        prefs = channel_prefs(self.store, [channel])[channel]
        if cmds.shows_only(command):
            return cmds.Reply((_settings_of(channel, prefs.describe()),))
        if isinstance(command, cmds.Digest):
            assert command.at is not None
            tz = command.tz or prefs.digest_tz
            weekday = (
                routing.parse_weekday(command.weekday) if command.weekday else prefs.digest_weekday
            )
            set_digest_time(self.store, channel, routing.parse_clock(command.at), tz, weekday)
            held = held_count(self.store, channel)
            keep: str = ""
            if held:
                keep = nmsg(
                    " ({n} alert already collected keeps its time)",
                    " ({n} alerts already collected keep their time)",
                    held,
                )
        else:
            quiet = None
            if command.window != "off":
                assert command.window is not None
                start, end = routing.parse_window(command.window)
                zone = prefs.quiet.tz if prefs.quiet else prefs.digest_tz
                quiet = routing.QuietHours(start, end, command.tz or zone)
            set_quiet(self.store, channel, quiet)
            keep = (
                msg(
                    " Non-critical alerts wait until the window ends; critical ones go out at once."
                )
                if quiet
                else ""
            )
        prefs = channel_prefs(self.store, [channel])[channel]
        said = joined("", [_settings_of(channel, prefs.describe()), keep])
        return cmds.Reply((said,), ephemeral=False)

    def _workspace_settings(self, command: cmds.WorkspaceSettings, inv: Invocation) -> cmds.Reply:
        """``settings``: the workspace's (or Discord server's) defaults; channel settings
        (``digest``, ``quiet``, a watch's ``--min-severity``) override them."""
        if command.workspace is not None and not inv.operator:
            raise UsageError(
                msg("settings: a chat command acts on its own workspace (no --workspace)")
            )
        workspace = command.workspace or self._workspace(inv)
        if workspace is None:
            raise UsageError(
                msg(
                    "settings: name the workspace, e.g. settings --workspace slack:T0123ABCD "
                    "(a Slack team id) or --workspace discord:<server id>"
                )
            )
        if command.key is not None:
            assert command.value is not None
            columns = {
                "who": ("who_may_change",),
                "severity": ("min_severity",),
                "digest": ("digest_at", "digest_tz"),
                "language": ("language",),
            }[command.key]
            given: tuple[str | None, ...] = (command.value, command.tz or "UTC")
            values = dict(zip(columns, given, strict=False))
            tenants.set_workspace_settings(self.store, workspace, **values)
        shown = tenants.workspace_settings(self.store, workspace)
        said = _settings_of(workspace, shown.describe(self.settings.default_language))
        return cmds.Reply((said,), ephemeral=command.key is None)

    def _workspace(self, inv: Invocation) -> str | None:
        """``slack:T0123`` / ``discord:<guild>``: where a chat command was typed."""
        if not inv.workspace:
            return None
        return f"{inv.channel.split(':', 1)[0]}:{inv.workspace}"

    async def check_now(self, refs: Sequence[str], inv: Invocation) -> cmds.Reply:
        """``check`` typed in chat: check the asker's targets now and deliver what the check
        found at once (the asker is waiting for it), whichever front end asked."""
        reply = await self.execute(cmds.Check(tuple(refs)), inv)
        await self.flush_deliveries()
        return reply

    # -- used by the CLI, the scheduler and the ops endpoints -----------------------------

    @property
    def progress(self) -> Report:
        """Hears (done, total) while a watch list or preset is applied; the CLI draws a bar."""
        return self.watch_lists.progress

    @progress.setter
    def progress(self, report: Report) -> None:
        self.watch_lists.progress = report

    def apply_watchlist(
        self,
        entries: Sequence[WatchEntry],
        created_by: str = "watchlist",
        problems: Sequence[str] = (),
        progress: Report | None = None,
    ) -> list[str]:
        """:meth:`WatchLists.apply_watchlist`: every entry subscribed, or none."""
        return self.watch_lists.apply_watchlist(entries, created_by, problems, progress)

    def export_watchlist(self, channel: str | None = None) -> list[WatchEntry]:
        """:meth:`WatchLists.export_watchlist`: the subscriptions as watch entries."""
        return self.watch_lists.export_watchlist(channel)

    @property
    def owner(self) -> str:
        """This process's id: what its claims and leases are held under."""
        return self.checker.owner

    def adapters(self) -> Mapping[str, Adapter]:
        """Where alerts go, by platform."""
        return self.dispatcher.adapters

    def listeners(self) -> list[Listener]:
        """The adapters that also receive commands (``policybot run`` serves them)."""
        return [a for a in self.dispatcher.adapters.values() if isinstance(a, Listener)]

    async def flush_deliveries(self) -> DispatchResult:
        """Send what the outbox holds that is due now."""
        return await self.dispatcher.flush()

    async def check_due(self) -> CycleResult:
        """The scheduler's tick: check every target whose next check is due."""
        return await self.checker.check_due()

    async def check_ids(self, ids: Sequence[int]) -> CycleResult:
        """Check these stored targets now (the Hub webhook names them)."""
        return await self.checker.check_ids(list(ids))

    def stored_target_ids(self, refs: Sequence[TargetRef]) -> list[int]:
        """The ids of those of ``refs`` that are stored (watched by some channel)."""
        ids = []
        for ref in refs:
            target = self.store.get_target(str(ref))
            if target is not None:
                ids.append(target.id)
        return ids

    def beat(self, ttl: timedelta) -> None:
        """Renew this process's heartbeat: what other replicas judge it alive by."""
        self.store.acquire_lease(heartbeat_name(self.owner), self.owner, self.clock(), ttl)

    def release_dead_owners(self) -> set[str]:
        """Free the work of every process whose heartbeat expired; returns those owners."""
        return self.store.release_dead_owners(self.clock())

    def hold_lease(self, name: str, ttl: timedelta) -> bool:
        """Take or renew the named lease for this process; False while another holds it."""
        return self.store.acquire_lease(name, self.owner, self.clock(), ttl)

    def release_lease(self, name: str) -> None:
        self.store.release_lease(name, self.owner)

    def release_my_leases(self) -> None:
        """Hand back whatever this process still holds (its heartbeat too), at shutdown."""
        self.store.release_leases_of([self.owner])

    def delivery_counts(self) -> dict[str, int]:
        """Deliveries by status (the ops server's outbox gauge)."""
        return self.store.delivery_counts()

    def ping(self) -> None:
        """One database round trip (the ops server's readiness)."""
        self.store.ping()

    def evidence_site(self, signer: Signer, max_lines: int) -> EvidenceSite:
        """The signed evidence pages over this service's store and sources."""
        from bot.evidence.site import EvidenceSite

        return EvidenceSite(self.store, self.sources, signer, max_lines=max_lines)

    async def check_and_deliver(
        self, refs: Sequence[str] = (), progress: Report = silent
    ) -> tuple[CycleResult, DispatchResult]:
        """Check the given targets (default: all) now and deliver; ``progress`` hears
        ``(done, total)`` after each group of ``concurrency`` checks."""
        if refs:
            scope = Scope(self.store, None, self._candidate_refs)
            ids = [scope.find(ref).target.id for ref in refs]
        else:
            ids = self.store.watched_target_ids()
        result = CycleResult()
        step = max(self.settings.concurrency, -(-len(ids) // 20))  # about 20 updates at most
        progress(0, len(ids))
        for start in range(0, len(ids), step):
            part = await self.checker.check_ids(ids[start : start + step])
            result.outcomes.extend(part.outcomes)
            result.busy += part.busy
            progress(min(start + step, len(ids)), len(ids))
        return result, await self.dispatcher.flush()

    def parse_ref(self, text: str) -> TargetRef:
        """A target this build can watch (:func:`bot.commands.validation.check_target`)."""
        return check_target(
            text,
            hub_hosts=self._hub_hosts,
            kinds=frozenset(self.sources),
            allow_private=self.settings.allow_private_urls,
            allowed=self.settings.private_networks_allowed,
        )

    def watch_problems(self, command: cmds.Watch) -> list[str]:
        """What is wrong with a watch's selector and regexes, whatever its targets: every
        front end refuses these before anything is fetched or stored."""
        problems = option_problems(select=command.select, ignore=command.ignore)
        return [joined("", ["✗ ", p]) for p in problems]

    def watches(self, inv: Invocation) -> list[tuple[SubscriptionRow, TargetRow]]:
        """The subscriptions the asker may see (Discord's autocomplete and buttons)."""
        return self._scope(inv).watches()

    async def resolve_ref(self, text: str) -> TargetRef:
        """:meth:`parse_ref`, except that a bare web URL is fetched once to tell a feed from
        a page; the answer is stored in the target's kind and never asked again."""
        ref = parse_target(text, hub_hosts=self._hub_hosts)
        if ref.kind in ("url", "feed", "page"):  # refuse intranet literals before any fetch
            check_url(
                ref.locator,
                allow_private=self.settings.allow_private_urls,
                allowed=self.settings.private_networks_allowed,
            )
        if ref.kind != "url":
            return self.parse_ref(text)
        sniffer = next((s for s in self.sources.values() if isinstance(s, Sniffer)), None)
        if sniffer is None:
            return self.parse_ref(text)
        try:
            found = await sniffer.sniff(ref.locator)
        except SourceError as e:
            said = msg("cannot watch {url}: {why}", url=ref.locator, why=e.message)
            raise InvalidTarget(said) from None
        if found.kind == "page" and "page" not in self.sources:
            said = msg(
                "{url} is a web page, not a feed ({why}); page watches are not available in "
                "this build.",
                url=ref.locator,
                why=found.why,
            )
            if found.feeds:
                feeds = " or ".join(f"feed:{url}" for url in found.feeds)
                said = joined(" ", [said, msg("It advertises a feed: watch {feeds}", feeds=feeds)])
            raise InvalidTarget(said)
        log.info("sniffed url=%s kind=%s because %s", ref.locator, found.kind, found.why)
        return self.parse_ref(f"{found.kind}:{ref.locator}")

    # -- helpers ------------------------------------------------------------------------

    def view_of(self, target: TargetRow, channel: str | None) -> str | None:
        """The view key through which ``channel`` sees ``target`` (its subscription's
        select/ignore); None for kinds without views and for a channel that does not watch
        it (the operator's CLI sees every view's changes)."""
        source = self.sources.get(target.kind)
        if not isinstance(source, ViewSource):
            return None
        subs = self.store.subscriptions_for(target.id)
        sub = next((s for s in subs if s.channel == channel), None)
        return source.view_key(sub.options) if sub else None

    def versions(self, target: TargetRow, channel: str | None, limit: int) -> list[SnapshotRow]:
        """The newest ``limit`` versions of what ``channel`` sees of ``target``, newest first:
        its own view of a page (facts = that view's; the oldest subscription's view for a
        channel without one), whole snapshots for other kinds."""
        source = self.sources.get(target.kind)
        if not isinstance(source, ViewSource):
            return self.store.snapshots_of(target.id, limit)
        key = self.view_of(target, channel)
        if key is None:
            subs = self.store.subscriptions_for(target.id)
            key = source.view_key(subs[0].options if subs else {})
        return self.store.view_versions(target.id, lambda f: source.view_facts(f, key), limit)

    def _channel(self, to: str | None, inv: Invocation) -> str:
        """The channel a command acts on: the asker's own; only the operator may name
        another (chat parsers refuse ``--to``; this refuses a Command built around them)."""
        if to is None:
            return inv.channel
        channel = str(parse_channel(to))
        if not inv.operator and channel != inv.channel:
            raise UsageError(msg("a chat command acts on its own channel only (no --to)"))
        return channel

    def _scope(self, inv: Invocation, to: str | None = None, *, own: bool = False) -> Scope:
        """What this command may see (:mod:`bot.commands.scope`): the asking channel's
        subscriptions; the operator's: all of them, or one channel's when named with ``--to`` or
        when the command changes a subscription (``own``: unwatch and mute act in one channel)."""
        if not inv.operator:
            return Scope(self.store, self._channel(to, inv), self._candidate_refs)
        if to is None and not own:
            return Scope(self.store, None, self._candidate_refs)
        return Scope(self.store, self._channel(to, inv), self._candidate_refs, operator=True)

    def _candidate_refs(self, text: str) -> list[str]:
        """The stored references ``text`` may name: a bare URL names whichever feed: or
        page: target it became."""
        ref = parse_target(text, hub_hosts=self._hub_hosts)
        if ref.kind == "url":
            return [f"feed:{ref.locator}", f"page:{ref.locator}"]
        return [str(self.parse_ref(text))]

    def _check_options(self, ref: TargetRef, command: cmds.Watch) -> None:
        check_view(
            ref,
            ref.kind,
            select=command.select,
            ignore=command.ignore,
            keywords=command.keywords,
            backfill=command.backfill,
        )


def _own_facts(
    source: Source, facts: Mapping[str, Any], key: str | None
) -> Mapping[str, Any] | None:
    """What a subscription sees of a snapshot: its own view's version (``key``) for a
    :class:`ViewSource`, the whole facts otherwise."""
    if key is None or not isinstance(source, ViewSource):
        return facts
    return source.view_facts(facts, key)


def _ago(now: datetime, then: datetime | None) -> str:
    if then is None:
        return msg("never")
    seconds = int((now - then).total_seconds())
    if seconds < 90:
        return msg("{seconds}s ago", seconds=seconds)
    if seconds < 5400:
        return msg("{minutes} min ago", minutes=seconds // 60)
    if seconds < 48 * 3600:
        return msg("{hours} h ago", hours=seconds // 3600)
    return nmsg("{n} day ago", "{n} days ago", seconds // 86400)


def _watching(new: bool, ref: TargetRef, channel: str) -> str:
    """The head of a watch's answer: "Watching x → channel." (or already watching)."""
    if new:
        return msg("Watching {ref} → {channel}.", ref=str(ref), channel=channel)
    return msg(
        "Already watching (settings updated) {ref} → {channel}.", ref=str(ref), channel=channel
    )


def _cadence(digest: str) -> str:
    """``daily`` / ``weekly`` as the reader says it (anything else as stored)."""
    return {"daily": msg("daily"), "weekly": msg("weekly")}.get(digest, digest)


def _settings_of(where: str, described: str) -> str:
    """``slack:T0123: <settings>.``: a channel's or workspace's settings, said."""
    return msg("{where}: {settings}.", where=where, settings=described)


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()
