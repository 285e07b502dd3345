"""Watch lists and presets: many watches applied all-or-nothing, and exported back.

Part of the executor (:class:`bot.service.Service` inherits it); kept apart because it is one
concern: turning a declarative list (a file, ``POLICYBOT_WATCHLIST``, a preset) into
subscriptions and back, idempotently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import commands as cmds
from bot import presets
from bot.config import Settings
from bot.errors import InvalidTarget, UsageError
from bot.model import Severity, TargetRef
from bot.progress import Report, silent
from bot.refs import parse_channel, preset_name
from bot.store import Store, SubscriptionRow, TargetRow
from bot.watchlist import WatchEntry

if TYPE_CHECKING:
    from bot.service import Invocation

_ENTRY_NUMBER = re.compile(r"\[\[watch\]\] #(\d+)")


def _entry_number(problem: str) -> int:
    """The entry a problem names (0 for the file itself), to list problems in file order."""
    found = _ENTRY_NUMBER.search(problem)
    return int(found.group(1)) if found else 0


class WatchListCommands:
    """Needs the executor's store, clock, settings and reference parsing."""

    settings: Settings
    store: Store
    clock: Callable[[], datetime]
    # Hears (done, total) while a watch list or preset is applied; the CLI draws a bar.
    progress: Report = staticmethod(silent)

    def parse_ref(self, text: str) -> TargetRef:
        raise NotImplementedError

    def _check_options(self, ref: TargetRef, command: cmds.Watch) -> None:
        raise NotImplementedError

    def _watch_preset(
        self, name: str, channel: str, command: cmds.Watch, inv: Invocation
    ) -> tuple[list[str], bool]:
        """``watch preset:<name>``: all of the preset's sources, or none of them."""
        if command.select or command.ignore or command.keywords or command.backfill:
            return [
                f"✗ preset:{name} brings its own selectors and keywords: --select, --ignore, "
                "--keywords and --backfill apply to single targets"
            ], False
        preset = presets.find(name, presets.catalogue())
        entries = presets.expand(preset, [channel], command.min_severity)
        try:
            applied = self.apply_watchlist(entries, created_by=inv.actor or "preset")
        except UsageError as e:
            return [f"✗ preset:{name}: nothing was subscribed. {e}"], False
        added = sum(line.startswith("added") for line in applied)
        return [
            f"Preset {name} v{preset.version} → {channel}: {len(applied)} sources, "
            f"{added} new. Each new source's baseline is taken at its first scheduled check "
            "(never an alert); see list.",
            *(f"  {line}" for line in applied),
        ], True

    def _presets(self, command: cmds.Presets) -> cmds.Reply:
        catalogue = presets.catalogue()
        if command.name is None:
            return cmds.Reply((*presets.describe(catalogue), "Subscribe with: watch preset:<name>"))
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
                self._check_options(
                    ref,
                    cmds.Watch(
                        (entry.target,),
                        select=entry.select,
                        ignore=entry.ignore,
                        keywords=entry.keywords,
                    ),
                )
                refs.append(ref)
            except InvalidTarget as e:
                problems.append(f"{where}: {e}")
                continue
            for channel in entry.channels:  # twice would leave the result to the order
                first = seen.setdefault((str(ref), str(parse_channel(channel))), where)
                if first != where:
                    problems.append(f"{where}: {ref} → {channel} is already listed ({first})")
        if problems:
            problems.sort(key=_entry_number)  # stable: per entry, parse problems first
            raise UsageError("invalid watch list:\n" + "\n".join(problems))
        now = self.clock()
        lines = []
        report = progress or self.progress
        report(0, len(refs))
        for done, (ref, entry) in enumerate(zip(refs, entries, strict=True), start=1):
            report(done - 1, len(refs))
            target, created = self.store.ensure_target(
                ref, now, options=target_options(ref, entry.select, entry.ignore, None)
            )
            wanted = None if created else target_options(ref, entry.select, entry.ignore, target)
            if wanted is not None:
                self.store.set_target_options(target.id, wanted)
            options = subscription_options(entry.keywords, entry.digest, entry.digest_all)
            before = {s.channel: s for s in self.store.subscriptions_for(target.id)}
            for channel in entry.channels:
                address = str(parse_channel(channel))
                old = before.get(address)
                sub, new = self.store.subscribe(
                    target.id,
                    address,
                    now,
                    created_by=created_by,
                    min_severity=entry.min_severity.value,
                    options=options,
                )
                if entry.muted_until is not None and sub.muted_until != entry.muted_until:
                    self.store.mute(sub.id, entry.muted_until)
                    sub = self.store.subscription_by_id(sub.id) or sub
                status = "added" if new else "kept"
                if not new and (
                    wanted is not None or old is None or _sub_key(old) != _sub_key(sub)
                ):
                    status = "updated"
                lines.append(f"{status} {ref} → {address}")
        report(len(refs), len(refs))
        return lines

    def _expand_presets(self, entries: Sequence[WatchEntry]) -> tuple[list[WatchEntry], list[str]]:
        """Replace ``preset:<name>`` entries by the preset's sources (same channels and
        severity); the problems found on the way."""
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
        now = self.clock()
        grouped: dict[tuple[Any, ...], list[str]] = {}
        targets: dict[str, TargetRow] = {}
        for sub, target in self.store.list_watches(channel):
            muted = sub.muted_until if sub.muted_until and sub.muted_until > now else None
            key = (
                target.ref,
                sub.min_severity,
                tuple(sub.options.get("keywords") or ()),
                muted,
                sub.options.get("digest"),
                bool(sub.options.get("digest_all")),
            )
            grouped.setdefault(key, []).append(sub.channel)
            targets[target.ref] = target
        out = []
        for (ref, severity, keywords, muted, digest, digest_all), channels in grouped.items():
            options = targets[ref].options
            out.append(
                WatchEntry(
                    target=ref,
                    channels=tuple(channels),
                    min_severity=Severity.parse(severity),
                    select=options.get("select"),
                    ignore=tuple(options.get("ignore") or ()),
                    keywords=keywords,
                    muted_until=muted,
                    digest=digest,
                    digest_all=digest_all,
                )
            )
        return out


def target_options(
    ref: TargetRef, select: str | None, ignore: Sequence[str], current: TargetRow | None
) -> dict[str, Any] | None:
    """A page's select/ignore as target options: for a new target (``current`` None) the
    options to store; for an existing one the new options when --select/--ignore change
    them, else None. Given neither, a watch keeps the options it has."""
    if ref.kind != "page":
        return None
    options = dict(current.options) if current is not None else {}
    if select is not None:
        options.pop("select", None)
        if select.strip():
            options["select"] = select.strip()
    if ignore:
        options.pop("ignore", None)
        if [p for p in ignore if p]:
            options["ignore"] = [p for p in ignore if p]
    if current is None:
        return options
    return options if options != dict(current.options) else None


def subscription_options(
    keywords: Sequence[str], digest: str | None, digest_all: bool
) -> dict[str, Any]:
    """Per-subscription settings as stored in ``subscriptions.options``."""
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
