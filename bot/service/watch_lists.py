"""Watch lists and presets: many watches applied all-or-nothing, and exported back.

Part of the executor (:class:`bot.service.executor.Service` owns one :class:`WatchLists`); kept
apart because it is one concern: turning a declarative list (a file, ``POLICYBOT_WATCHLIST``, a
preset) into subscriptions and back, idempotently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.commands import grammar as cmds
from bot.commands.invocation import Invocation
from bot.commands.validation import view_problems
from bot.config import Settings
from bot.domain.errors import InvalidTarget, UsageError
from bot.domain.model import Severity, TargetRef
from bot.domain.refs import parse_channel, preset_name
from bot.i18n import joined, msg
from bot.net import Guard, check_webhook_url
from bot.service.progress import Report, silent
from bot.store import Store, SubscriptionRow
from bot.text.page_views import view_key

if TYPE_CHECKING:  # imported where used: a `check` reads no watch list or preset file
    from bot.commands.watchlist import WatchEntry

_ENTRY_NUMBER = re.compile(r"\[\[watch\]\] #(\d+)")


def _entry_number(problem: str) -> int:
    """The entry a problem names (0 for the file itself), to list problems in file order."""
    found = _ENTRY_NUMBER.search(problem)
    return int(found.group(1)) if found else 0


class WatchLists:
    """Watch lists and presets over the executor's store, with its clock, settings and its
    reference parsing (``parse_ref``: what this build can watch)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime],
        parse_ref: Callable[[str], TargetRef],
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.parse_ref = parse_ref
        # Hears (done, total) while a watch list or preset is applied; the CLI draws a bar.
        self.progress: Report = silent

    def watch_preset(
        self, name: str, channel: str, command: cmds.Watch, inv: Invocation
    ) -> tuple[list[str], bool]:
        """``watch preset:<name>``: all of the preset's sources, or none of them."""
        if command.select or command.ignore or command.keywords or command.backfill:
            said = msg(
                "✗ preset:{name} brings its own selectors and keywords: --select, --ignore, "
                "--keywords and --backfill apply to single targets",
                name=name,
            )
            return [said], False
        from bot.commands import presets

        preset = presets.find(name, presets.catalogue())
        entries = presets.expand(preset, [channel], command.min_severity)
        try:
            applied = self.apply_watchlist(entries, created_by=inv.actor or "preset")
        except UsageError as e:
            said = msg("✗ preset:{name}: nothing was subscribed. {why}", name=name, why=e.message)
            return [said], False
        added = sum(line.startswith("added") for line in applied)
        said = msg(
            "Preset {name} v{version} → {channel}: {sources} sources, {added} new. Each new "
            "source's baseline is taken at its first scheduled check (never an alert); see list.",
            name=name,
            version=str(preset.version),
            channel=channel,
            sources=len(applied),
            added=added,
        )
        return [said, *(joined("", ["  ", line]) for line in applied)], True

    def presets(self, command: cmds.Presets) -> cmds.Reply:
        from bot.commands import presets

        catalogue = presets.catalogue()
        if command.name is None:
            subscribe = msg("Subscribe with: watch preset:<name>")
            return cmds.Reply((*presets.describe(catalogue), subscribe))
        preset = presets.find(command.name.removeprefix("preset:"), catalogue)
        return cmds.Reply(tuple(presets.describe({preset.name: preset}, verbose=True)))

    def apply_watchlist(
        self,
        entries: Sequence[WatchEntry],
        created_by: str = "watchlist",
        problems: Sequence[str] = (),
        progress: Report | None = None,
    ) -> list[str]:
        """Subscribe every entry, after validating all of them (nothing is half-applied).

        ``preset:<name>`` entries expand to the preset's sources first. Each line says
        ``added``, ``updated`` (settings changed) or ``kept`` (nothing changed), so a second
        import of the same list says ``kept`` throughout. No fetch happens here: each new
        target's first scheduled check is its baseline. ``problems`` are those the file's
        parser already found (``watchlist.read``): they are reported together with the
        problems found here, every entry's in file order, so one run shows them all.
        """
        entries, found = self._expand_presets(entries)
        problems = [*problems, *found]
        refs: list[TargetRef] = []
        seen: dict[tuple[str, str], str] = {}  # (target, channel) → where it was listed
        for number, entry in enumerate(entries, start=1):
            where = entry.where or f"[[watch]] #{number}"
            try:
                ref = self.parse_ref(entry.target)
            except InvalidTarget as e:
                problems.append(f"{where}: {e}")
                continue
            view = view_problems(
                ref.kind,
                select=entry.select,
                ignore=entry.ignore,
                keywords=entry.keywords,
                prefix="",  # a watch list's keys, not the command line's options
            )
            if view:  # the same validation as every other path (bot.commands.validation)
                problems.extend(f"{where}: {p}" for p in view)
                continue
            refs.append(ref)
            for channel in entry.channels:  # twice would leave the result to the order
                named = parse_channel(channel)
                if named.platform.endswith("webhook"):  # its URL is checked like a target's
                    try:
                        check_webhook_url(named.address, Guard.from_settings(self.settings))
                    except InvalidTarget as e:
                        problems.append(f"{where}: {named.platform}: {e}")
                        continue
                first = seen.setdefault((str(ref), str(named)), where)
                if first != where:
                    problems.append(f"{where}: {ref} → {channel} is already listed ({first})")
        if problems:
            # The file's reader judged the syntax already; each problem is said once.
            problems = list(dict.fromkeys(problems))
            problems.sort(key=_entry_number)  # stable: per entry, parse problems first
            raise UsageError("invalid watch list:\n" + "\n".join(problems))
        now = self.clock()
        lines: list[str] = []
        report = progress or self.progress
        report(0, len(refs))
        for done, (ref, entry) in enumerate(zip(refs, entries, strict=True), start=1):
            report(done - 1, len(refs))
            target, _created = self.store.ensure_target(ref, now)
            options = subscription_options(entry.keywords, entry.digest, entry.digest_all)
            before = {s.channel: s for s in self.store.subscriptions_for(target.id)}
            views = {view_key(s.options) for s in before.values()}
            for channel in entry.channels:
                address = str(parse_channel(channel))
                old = before.get(address)
                mine = {
                    **options,
                    **view_options(ref, entry.select, entry.ignore, old.options if old else None),
                }
                sub, new = self.store.subscribe(
                    target.id,
                    address,
                    now,
                    created_by=created_by,
                    min_severity=entry.min_severity.value,
                    options=mine,
                )
                if ref.kind == "page" and view_key(mine) not in views:
                    self.store.refetch_in_full(target.id)  # a view with no version yet
                    views.add(view_key(mine))
                if entry.muted_until is not None and sub.muted_until != entry.muted_until:
                    self.store.mute(sub.id, entry.muted_until)
                    sub = self.store.subscription_by_id(sub.id) or sub
                said = msg("added {ref} → {channel}", ref=str(ref), channel=address)
                if not new and (old is None or _sub_key(old) != _sub_key(sub)):
                    said = msg("updated {ref} → {channel}", ref=str(ref), channel=address)
                elif not new:
                    said = msg("kept {ref} → {channel}", ref=str(ref), channel=address)
                lines.append(said)
        report(len(refs), len(refs))
        return lines

    def _expand_presets(self, entries: Sequence[WatchEntry]) -> tuple[list[WatchEntry], list[str]]:
        """Replace ``preset:<name>`` entries by the preset's sources (same channels and
        severity); the problems found on the way."""
        from bot.commands import presets

        out: list[WatchEntry] = []
        problems: list[str] = []
        for number, entry in enumerate(entries, start=1):
            where = entry.where or f"[[watch]] #{number}"
            try:
                name = preset_name(entry.target)
                if name is None:
                    out.append(entry)
                    continue
                if entry.select or entry.ignore or entry.keywords:
                    raise InvalidTarget(
                        f"preset:{name} brings its own select/ignore/keywords; remove them here"
                    )
            except InvalidTarget as e:
                problems.append(f"{where}: {e}")
                continue
            try:
                preset = presets.find(name, presets.catalogue())
            except InvalidTarget as e:
                problems.append(f"{where}: {e}")
                continue
            for expanded in presets.expand(preset, entry.channels, entry.min_severity):
                out.append(
                    replace(
                        expanded, muted_until=entry.muted_until, where=f"{where}: {expanded.where}"
                    )
                )
        return out, problems

    def export_watchlist(self, channel: str | None = None) -> list[WatchEntry]:
        """The subscriptions (of one channel, or all) as watch entries that
        :meth:`apply_watchlist` turns back into the same subscriptions. Channels that watch
        a target with the same settings share one entry."""
        from bot.commands.watchlist import WatchEntry

        now = self.clock()
        grouped: dict[tuple[Any, ...], list[str]] = {}
        for sub, target in self.store.list_watches(channel):
            muted = sub.muted_until if sub.muted_until and sub.muted_until > now else None
            key = (
                target.ref,
                sub.options.get("select"),
                tuple(sub.options.get("ignore") or ()),
                sub.min_severity,
                tuple(sub.options.get("keywords") or ()),
                muted,
                sub.options.get("digest"),
                bool(sub.options.get("digest_all")),
            )
            grouped.setdefault(key, []).append(sub.channel)
        out = []
        for key, channels in grouped.items():
            ref, select, ignore, severity, keywords, muted, digest, digest_all = key
            out.append(
                WatchEntry(
                    target=ref,
                    channels=tuple(channels),
                    min_severity=Severity.parse(severity),
                    select=select,
                    ignore=ignore,
                    keywords=keywords,
                    muted_until=muted,
                    digest=digest,
                    digest_all=digest_all,
                )
            )
        return out


def view_options(
    ref: TargetRef, select: str | None, ignore: Sequence[str], current: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A page subscription's own view (select/ignore), as stored in its options: those given,
    else those it has (``current``, its options today; None for a new subscription). Given
    neither, a watch keeps the view it has. Other kinds have no view."""
    if ref.kind != "page":
        return {}
    view = {k: current[k] for k in _VIEW_KEYS if current is not None and k in current}
    if select is not None:
        view.pop("select", None)
        if select.strip():
            view["select"] = select.strip()
    if ignore:
        view.pop("ignore", None)
        if [p for p in ignore if p]:
            view["ignore"] = [p for p in ignore if p]
    return view


_VIEW_KEYS = ("select", "ignore")


def subscription_options(
    keywords: Sequence[str], digest: str | None, digest_all: bool
) -> dict[str, Any]:
    """Per-subscription delivery settings as stored in ``subscriptions.options`` (a page's
    view, :func:`view_options`, is stored beside them)."""
    options: dict[str, Any] = {}
    if keywords:
        options["keywords"] = list(keywords)
    if digest:
        options["digest"] = digest
        if digest_all:
            options["digest_all"] = True
    return options


def _sub_key(sub: SubscriptionRow) -> tuple[Any, ...]:
    """What an import may change on a subscription."""
    return (sub.min_severity, dict(sub.options), sub.muted_until)
