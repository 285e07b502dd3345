"""RSS/Atom: bytes → entries with a stable identity, and "which entries are new". Pure.

feedparser only ever gets bytes here (never a URL: it would fetch it itself with urllib, with
no timeout and no SSRF guard). Its ``bozo`` flag is a warning, not a verdict: a feed that is
ill-formed but yields entries is used; one that yields nothing is unparsable.

A body that declares no encoding (no BOM, no HTTP charset, no XML declaration) is guessed by
``chardet``, which feedparser uses by itself when it is importable (a dependency for that
reason: without it a Shift_JIS feed is read as windows-1252 and every title is mojibake).
chardet rather than charset-normalizer: feedparser calls ``chardet.detect`` inside its own
encoding order (BOM, HTTP, XML declaration, guess, UTF-8, windows-1252), where
charset-normalizer would need us to re-implement that order in front of it.

Facts of a feed target (what a snapshot holds and compares)::

    {"title": str, "link": str | None, "total": int,
     "entries": [{"key", "title", "link", "published", "summary"}, ...],   # newest first, capped
     "seen": ["<16 hex>", ...]}                                           # bounded, newest first

``seen`` holds short digests of the identities of every entry ever seen (the newest N), so an
entry that drops off the feed and comes back is not new, and an entry whose text is edited
(same identity) is not new either. Parsing is the dominant cost of a feed check, so it is
counted (:func:`parse_count`) and the shell skips it for a 304 or an unchanged body.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.domain.errors import FailureReason, SourceError
from bot.domain.facts import EntryFacts, FeedFacts
from bot.i18n import msg
from bot.text.sniff import looks_like_html, media_type

SUMMARY_MAX_CHARS = 300
TITLE_MAX_CHARS = 300
TITLE_FROM_SUMMARY_WORDS = 8  # an untitled entry is named by this many words of its summary
TITLE_FROM_SUMMARY_CHARS = 60
_RAW_TEXT_MAX = 50_000  # longer HTML is cut before stripping: a summary needs its start only
_SPACE = re.compile(r"\s+")
_parse_lock = threading.Lock()
_parse_total = 0


def parse_count() -> int:
    """How many bodies this process has handed to feedparser (the skip-unchanged proof),
    wherever the parse then ran (a worker process counts in its caller)."""
    return _parse_total


def count_parse() -> None:
    """One body is about to be parsed (called by the feed source, which decides to parse)."""
    global _parse_total
    with _parse_lock:  # checks run in threads too
        _parse_total += 1


@dataclass(frozen=True, slots=True)
class Entry:
    key: str  # identity: id/guid, else link, else a digest of title + date
    title: str
    link: str | None
    published: str | None  # ISO 8601 in UTC, when the feed gave a readable date
    summary: str  # plain text, capped

    def to_json(self) -> EntryFacts:
        return {
            "key": self.key,
            "title": self.title,
            "link": self.link,
            "published": self.published,
            "summary": self.summary,
        }

    @classmethod
    def from_json(cls, data: EntryFacts) -> Entry:
        return cls(
            key=str(data["key"]),
            title=str(data.get("title") or ""),
            link=data.get("link"),
            published=data.get("published"),
            summary=str(data.get("summary") or ""),
        )

    @property
    def display_title(self) -> str:
        """The title, else the first words of the summary (an RSS item may have only a
        description), else "(untitled)"."""
        if self.title:
            return self.title
        words = self.summary.split()
        if not words:
            return "(untitled)"
        head = " ".join(words[:TITLE_FROM_SUMMARY_WORDS])
        if len(head) > TITLE_FROM_SUMMARY_CHARS:  # CJK text has few spaces
            return head[: TITLE_FROM_SUMMARY_CHARS - 1] + "…"
        return head + ("…" if len(words) > TITLE_FROM_SUMMARY_WORDS else "")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    link: str | None
    version: str
    entries: tuple[Entry, ...]  # every entry read, newest first
    problem: str | None = None  # why feedparser called it ill-formed, when entries were used
    listed: int | None = None  # entries the body lists, when more than were read

    @property
    def total(self) -> int:
        """Entries the feed lists (more than ``entries`` when the body was cut)."""
        return self.listed if self.listed is not None else len(self.entries)

    @property
    def truncated(self) -> bool:
        return self.listed is not None and self.listed > len(self.entries)


def parse_feed(
    body: bytes, *, content_type: str | None, url: str, max_entries: int | None = None
) -> ParsedFeed:
    """Parse one fetched body. Raises ``SourceError(reason="unparsable")`` when nothing usable
    comes out: an empty body, an HTML page, or broken XML without a single entry.

    Only the newest ``max_entries`` are turned into entries (the setting
    ``feed_parse_max_entries``): a feed of 100,000 entries would otherwise cost seconds more
    of CPU and memory per check for entries nobody is told about (a snapshot keeps 100)."""
    if not body.strip():
        raise SourceError(
            msg("the server sent an empty body instead of a feed"),
            reason=FailureReason.UNPARSABLE,
        )
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    import feedparser  # 25 ms (and chardet) at start-up; only a feed check needs it

    result = feedparser.parse(io.BytesIO(body), response_headers=headers)
    raw_entries = list(result.get("entries") or [])
    listed = len(raw_entries)
    if max_entries is not None and listed > max_entries:
        raw_entries = _newest_raw(raw_entries, max_entries)
    problem = _bozo_reason(result) if result.get("bozo") else None
    if not raw_entries and (problem or not result.get("version")):
        if looks_like_html(content_type, body):
            kind = media_type(content_type) or msg("no content type")
            raise SourceError(
                msg("the server sent an HTML page ({kind}), not a feed", kind=kind),
                reason=FailureReason.UNPARSABLE,
            )
        raise SourceError(
            msg(
                "not a readable feed: {problem}",
                problem=problem or msg("no RSS or Atom document found"),
            ),
            reason=FailureReason.UNPARSABLE,
        )
    feed = result.get("feed") or {}
    # An item with no id, title, link or text (a truncated one) is nothing to announce.
    entries = _dedupe([e for e in map(_entry, raw_entries) if not _is_empty(e)])
    if not entries and problem:
        raise SourceError(
            msg("not a readable feed: {problem}", problem=problem), reason=FailureReason.UNPARSABLE
        )
    return ParsedFeed(
        title=_text(feed.get("title"), _is_html(feed.get("title_detail")), TITLE_MAX_CHARS),
        link=_str_or_none(feed.get("link")),
        version=str(result.get("version") or ""),
        entries=tuple(_newest_first(entries)),
        problem=problem,
        listed=listed if listed > len(raw_entries) else None,
    )


def parse_body(body: bytes, content_type: str | None, url: str, max_entries: int) -> ParsedFeed:
    """:func:`parse_feed` as the worker pool's job (:mod:`bot.sources.feed` sends it there):
    a 5 MB feed's expat callbacks would otherwise take turns with the event loop for the GIL.
    Here, in a pure module, because a worker process imports the module of each job it runs."""
    return parse_feed(body, content_type=content_type, url=url, max_entries=max_entries)


def facts_of(parsed: ParsedFeed, *, max_entries: int, remember: int) -> FeedFacts:
    """The facts one fetch can know (``seen`` holds only this body's entries until
    :func:`carry` folds the previous snapshot in)."""
    facts: FeedFacts = {
        "title": parsed.title,
        "link": parsed.link,
        "total": parsed.total,
        "entries": [e.to_json() for e in parsed.entries[:max_entries]],
        "seen": [seen_digest(e.key) for e in parsed.entries[:remember]],
    }
    if parsed.truncated:
        facts["read"] = len(parsed.entries)
    return facts


def cut_note(facts: FeedFacts) -> str | None:
    """ "only the newest N of M entries were read …" when the body listed more than the cap."""
    read, total = facts.get("read"), int(facts.get("total") or 0)
    if not isinstance(read, int) or read >= total:
        return None
    return (
        f"the feed lists {total} entries; only the newest {read} were read "
        "(POLICYBOT_FEED_PARSE_MAX_ENTRIES)"
    )


def carry(prev: FeedFacts | None, new: FeedFacts, remember: int) -> FeedFacts:
    """New facts whose ``seen`` also remembers what earlier snapshots saw (newest first)."""
    merged = new.copy()
    seen = list(new.get("seen") or [])
    if prev is not None:
        seen.extend(_seen_of(prev))
    merged["seen"] = list(dict.fromkeys(seen))[:remember]
    return merged


def entries_of(facts: FeedFacts) -> list[Entry]:
    return [Entry.from_json(e) for e in facts.get("entries") or []]


def fresh_entries(prev: FeedFacts, new: FeedFacts) -> list[Entry]:
    """Entries of ``new`` never seen before, newest first."""
    seen = set(_seen_of(prev))
    return [e for e in entries_of(new) if seen_digest(e.key) not in seen]


def is_rewrite(prev: FeedFacts, new: FeedFacts, fresh: Sequence[Entry]) -> bool:
    """Every entry looks new while the feed had entries before: the feed changed its ids (a
    new platform, a moved blog), it did not publish all of that at once."""
    return bool(prev.get("entries")) and len(fresh) > 1 and len(fresh) == len(entries_of(new))


def seen_digest(key: str) -> str:
    """A short stable digest of an identity: 1,000 of them fit in 17 kB of snapshot."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def plain_text(markup: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """HTML → one line of plain text, cut at a word boundary with an ellipsis."""
    text = markup[:_RAW_TEXT_MAX]
    if "<" in text:
        from bs4 import BeautifulSoup  # 50 ms at start-up; only feed summaries need it

        text = BeautifulSoup(text, "html.parser").get_text(" ")
    elif "&" in text:
        text = html.unescape(text)
    return cap(_SPACE.sub(" ", text).strip(), limit)


def cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def format_date(iso: str | None) -> str | None:
    when = published_at(iso)
    return f"{when:%Y-%m-%d %H:%M} UTC" if when else None


def published_at(iso: str | None) -> datetime | None:
    """An entry's stored date as a time in UTC (a message parameter, formatted for the
    reader's locale), or None when there is none or it is unreadable."""
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# -- helpers ---------------------------------------------------------------------------


def _entry(raw: dict[str, Any]) -> Entry:
    # dict.get, not FeedParserDict.get: the latter maps updated→published with a warning.
    title_raw = _str_or_none(dict.get(raw, "title")) or ""
    published = _iso(dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed"))
    date_raw = _str_or_none(dict.get(raw, "published") or dict.get(raw, "updated")) or ""
    ident = _str_or_none(dict.get(raw, "id")) or _str_or_none(dict.get(raw, "link"))
    if ident is None:
        digest = hashlib.sha256(f"{title_raw}\n{date_raw}".encode("utf-8", "replace")).hexdigest()
        ident = f"sha256:{digest}"
    summary = _str_or_none(dict.get(raw, "summary"))
    detail = dict.get(raw, "summary_detail")
    if not summary:
        content = dict.get(raw, "content") or []
        if content and isinstance(content[0], Mapping):
            summary = _str_or_none(content[0].get("value"))
            detail = content[0]
    return Entry(
        key=ident,
        title=_text(title_raw, _is_html(dict.get(raw, "title_detail")), TITLE_MAX_CHARS),
        link=_str_or_none(dict.get(raw, "link")),
        published=published,
        summary=_text(summary or "", _is_html(detail), SUMMARY_MAX_CHARS),
    )


def _is_empty(entry: Entry) -> bool:
    return entry.key.startswith("sha256:") and not (entry.title or entry.link or entry.summary)


def _text(value: Any, is_html: bool, limit: int) -> str:
    text = _str_or_none(value) or ""
    if is_html:
        return plain_text(text, limit)
    return cap(_SPACE.sub(" ", text).strip(), limit)


def _is_html(detail: Any) -> bool:
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    return kind in ("text/html", "application/xhtml+xml") or "html" in str(kind)


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _iso(parsed: Any) -> str | None:
    if not isinstance(parsed, time.struct_time):
        return None
    try:  # feedparser's struct_time is in UTC
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        return None


def _dedupe(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    out = []
    for entry in entries:
        if entry.key not in seen:
            seen.add(entry.key)
            out.append(entry)
    return out


def _newest_raw(raw: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The ``count`` newest raw entries, by date when every one has a date, else the first
    ``count`` in document order (feeds list newest first); cheap, before any conversion."""
    dates = [dict.get(e, "published_parsed") or dict.get(e, "updated_parsed") for e in raw]
    stamps = [tuple(d) for d in dates if isinstance(d, time.struct_time)]
    if len(stamps) == len(raw):
        order = sorted(range(len(raw)), key=lambda i: stamps[i], reverse=True)
        return [raw[i] for i in sorted(order[:count])]
    return raw[:count]


def _newest_first(entries: list[Entry]) -> list[Entry]:
    """Date order when every entry has a date; the feed's own order otherwise (usually
    newest first already, and the only order an undated feed has)."""
    if entries and all(e.published for e in entries):
        return sorted(entries, key=lambda e: e.published or "", reverse=True)
    return entries


def _seen_of(facts: FeedFacts) -> list[str]:
    seen = facts.get("seen")
    if isinstance(seen, list):
        return [str(s) for s in seen]
    return [seen_digest(e.key) for e in entries_of(facts)]


def _bozo_reason(result: Mapping[str, Any]) -> str:
    exc = result.get("bozo_exception")
    if exc is None:
        return "ill-formed feed"
    message = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
