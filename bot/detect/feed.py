"""New feed entries → the alerts one subscription receives. Pure, no markup.

Filters are per subscription (``subscriptions.options["keywords"]``) while the feed is fetched
once: each channel's keywords pick its entries here. Keywords match case-insensitively at the
start of a word in the title or summary (``deprecat`` matches "Deprecation"); ``-word``
excludes an entry that mentions it. A few entries come one alert each; more than
``group_over`` at once (a backlog, a feed that rewrote its ids) come as one grouped alert
with a count, never as a burst.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

from bot.alerts.compose import default_actions
from bot.domain.model import Alert, Link, Severity
from bot.i18n import msg, nmsg
from bot.text.feed_entries import Entry, cap, format_date, published_at

GROUP_LIST_MAX = 10  # titles listed in a grouped alert


@dataclass(frozen=True, slots=True)
class KeywordFilter:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(cls, words: Iterable[object]) -> KeywordFilter:
        include: list[str] = []
        exclude: list[str] = []
        for raw in words:
            word = str(raw).strip()
            if word.startswith("-") and len(word) > 1:
                exclude.append(word[1:].strip())
            elif word and word != "-":
                include.append(word)
        return cls(tuple(w for w in include if w), tuple(w for w in exclude if w))

    def matches(self, entry: Entry) -> tuple[str, ...] | None:
        """None when the entry is filtered out, else the include words it matched (empty
        when this filter has no include words: everything not excluded passes)."""
        text = f"{entry.title}\n{entry.summary}".casefold()
        if any(_pattern(word).search(text) for word in self.exclude):
            return None
        if not self.include:
            return ()
        hits = tuple(word for word in self.include if _pattern(word).search(text))
        return hits or None


@lru_cache(maxsize=1024)
def _pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word.casefold()))


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What an alert says about the feed itself."""

    target: str  # "feed:https://…"
    url: str
    title: str
    site: str | None = None
    total: int = 0  # entries the feed lists
    kept: int = 0  # entries a snapshot tracks (the newest ones)

    @property
    def name(self) -> str:
        return self.title or urlsplit(self.url).netloc or self.url


def announce(
    info: FeedInfo,
    entries: Sequence[Entry],
    keywords: KeywordFilter,
    *,
    group_over: int,
    rewrite: bool = False,
    detected_at: datetime | None = None,
) -> list[Alert]:
    """The alerts for one subscription: one per entry that passes its filter, or one grouped
    alert when more than ``group_over`` pass (or the feed rewrote its ids)."""
    picked = [(e, hits) for e in entries if (hits := keywords.matches(e)) is not None]
    if not picked:
        return []
    severity = Severity.NOTICE if keywords.include else Severity.INFO
    if rewrite or len(picked) > group_over:
        return [grouped_alert(info, picked, severity, rewrite=rewrite, detected_at=detected_at)]
    # Oldest first, so the newest entry ends up at the bottom of the channel.
    return [
        entry_alert(info, entry, hits, severity, detected_at) for entry, hits in reversed(picked)
    ]


def entry_alert(
    info: FeedInfo,
    entry: Entry,
    matched: Sequence[str],
    severity: Severity,
    detected_at: datetime | None,
) -> Alert:
    fields: list[tuple[str, str]] = []
    published = published_at(entry.published)
    if published:
        fields.append((msg("Published"), msg("{at} UTC", at=published)))
    if matched:
        fields.append((msg("Keywords"), ", ".join(matched)))
    links = [Link(msg("Read"), entry.link)] if entry.link else []
    links.append(Link(msg("Feed"), info.url))
    return Alert(
        title=entry.display_title,
        severity=severity,
        target=info.target,
        source_label=info.name,
        lines=(entry.summary,) if entry.summary else (),
        fields=tuple(fields),
        links=tuple(links),
        actions=default_actions(info.target),
        detected_at=detected_at,
        threaded=False,
    )


def grouped_alert(
    info: FeedInfo,
    picked: Sequence[tuple[Entry, Sequence[str]]],
    severity: Severity,
    *,
    rewrite: bool,
    detected_at: datetime | None,
) -> Alert:
    count = len(picked)
    lines: list[str] = []
    if rewrite:
        title = nmsg(
            "Feed rewritten: {n} entry looks new at once",
            "Feed rewritten: {n} entries look new at once",
            count,
        )
        lines.append(
            msg(
                "Every entry of the feed now has an identity never seen before (the feed was "
                "rewritten or moved), so they are announced together once and treated as seen."
            )
        )
    else:
        title = nmsg("{n} new entry", "{n} new entries", count)
    for entry, _hits in picked[:GROUP_LIST_MAX]:
        date = format_date(entry.published)
        lines.append(cap(entry.display_title, 120) + (f" ({date[:10]})" if date else ""))
    if count > GROUP_LIST_MAX:
        lines.append(msg("… and {n} more", n=count - GROUP_LIST_MAX))
    if info.total > info.kept > 0:
        lines.append(
            msg(
                "The feed lists {total} entries; only the newest {kept} are tracked.",
                total=info.total,
                kept=info.kept,
            )
        )
    fields = [(msg("New entries"), str(count))]
    matched = list(dict.fromkeys(word for _e, hits in picked for word in hits))
    if matched:
        fields.append((msg("Keywords"), ", ".join(matched)))
    links = [Link(msg("Feed"), info.url)]
    if info.site and info.site != info.url:
        links.append(Link(msg("Site"), info.site))
    return Alert(
        title=title,
        severity=severity,
        target=info.target,
        source_label=info.name,
        lines=tuple(lines),
        fields=tuple(fields),
        links=tuple(links),
        actions=default_actions(info.target),
        detected_at=detected_at,
        threaded=False,
    )
