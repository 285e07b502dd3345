"""Neutral domain types shared by sources, detection, rendering, store and adapters.

Standard library and :mod:`bot.i18n` only: every other layer translates to and from these.
Texts of ours in them are :class:`~bot.i18n.Msg` values (strings that read as English and can
be rendered in another language); upstream text is a plain ``str``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.i18n import from_data, msg, to_data


class Severity(StrEnum):
    """How loudly a change should be announced; ordered by ``rank``."""

    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            said = msg(
                "unknown severity {given} (choose one of {names})", given=repr(text), names=names
            )
            raise ValueError(said) from None


_SEVERITY_ORDER = (Severity.INFO, Severity.NOTICE, Severity.WARNING, Severity.CRITICAL)


class ChangeKind(StrEnum):
    LICENCE = "licence"
    ACCESS = "access"
    CONTENT = "content"
    ENTRY = "entry"
    HEALTH = "health"


class CheckStatus(StrEnum):
    """What one check did (``CheckOutcome.status``); the values are the strings the CLI, chat
    replies and metrics have always compared with."""

    BASELINE = "baseline"
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not-modified"
    CHANGED = "changed"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    # the lease was lost mid-check: another process owns the target now, nothing was recorded
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class TargetRef:
    """A canonical target reference such as ``hf:datasets/HuggingFaceFW/fineweb``."""

    kind: str
    locator: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.locator}"


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Validators:
    """What the next conditional request sends back (ETag / Last-Modified)."""

    etag: str | None = None
    last_modified: str | None = None
    body_digest: str | None = None  # sha256 of the last body: same bytes → skip parsing


@dataclass(frozen=True, slots=True)
class Observation:
    """What one successful fetch saw.

    ``facts`` is the normalised state that is compared between checks; ``evidence`` (commit
    sha, last-modified time, URLs) is kept for alerts but never compared, so a new commit that
    leaves the licence alone is not a change.
    """

    facts: Mapping[str, Any]
    evidence: Mapping[str, Any] = field(default_factory=dict)
    validators: Validators = Validators()

    @property
    def digest(self) -> str:
        return facts_digest(self.facts)


@dataclass(frozen=True, slots=True)
class NotModified:
    """The upstream said nothing changed (HTTP 304): no parse, no snapshot."""

    validators: Validators = Validators()


@dataclass(frozen=True, slots=True)
class Gone:
    """The upstream says the target is missing or hidden (401/404).

    Not a change by itself: it must be confirmed by consecutive checks first.
    """

    reason: str


FetchResult = Observation | NotModified | Gone


def facts_digest(facts: Mapping[str, Any]) -> str:
    """A stable digest of facts: canonical JSON, so key order never matters."""
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Change:
    """One typed, meaningful difference between two snapshots."""

    kind: ChangeKind
    severity: Severity
    summary: str
    before: str | None = None
    after: str | None = None
    detail: str | None = None
    links: tuple[Link, ...] = ()
    # The view it was seen through (a page's select/ignore, bot.sources.base.ViewSource);
    # None when every subscription sees it (other kinds, a target's health).
    view: str | None = None
    # What the reader calls the target, when the source knows better than its ref (a page's
    # <title>); None: the ref's own display name.
    subject: str | None = None
    # What changed in the reader's terms, one line each ("Team: $12 → $15 per seat / month
    # (+25 %)"); shown between the summary and the raw diff.
    points: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Action:
    """A button on an alert; adapters that have buttons render it, others ignore it."""

    kind: str  # "unwatch" | "mute" | "diff"
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Alert:
    """What a channel receives for one check of one target: platform-neutral, no markup."""

    title: str
    severity: Severity
    target: str
    source_label: str
    lines: tuple[str, ...]
    fields: tuple[tuple[str, str], ...] = ()
    excerpt: str | None = None
    links: tuple[Link, ...] = ()
    actions: tuple[Action, ...] = ()
    detected_at: datetime | None = None
    # Follow-ups about one target thread under its first alert (a licence reverted); a stream
    # of independent items (feed entries) must not.
    threaded: bool = True
    # The alert's evidence page (bot.evidence), minted per delivery for its channel; None
    # without POLICYBOT_PUBLIC_URL. Adapters make "Show diff" open it.
    evidence_url: str | None = None
    # The language its texts were rendered in (bot.alerts.localize), for the adapter's own
    # words around them; never stored: the outbox keeps the messages, not a language.
    language: str = "en"

    def to_json(self) -> dict[str, Any]:
        """As JSON data; each text of ours is kept as its message id and parameters."""
        return {
            "title": to_data(self.title),
            "severity": self.severity.value,
            "target": self.target,
            "source_label": to_data(self.source_label),
            "lines": list(map(to_data, self.lines)),
            "fields": [[to_data(k), to_data(v)] for k, v in self.fields],
            "excerpt": to_data(self.excerpt) if self.excerpt is not None else None,
            "links": [{"label": to_data(lk.label), "url": lk.url} for lk in self.links],
            "actions": [
                {"kind": a.kind, "label": to_data(a.label), "value": a.value} for a in self.actions
            ],
            "detected_at": self.detected_at.isoformat() if self.detected_at else None,
            "threaded": self.threaded,
            **({"evidence_url": self.evidence_url} if self.evidence_url else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        """The inverse of :meth:`to_json`; rows queued before messages were kept as data hold
        plain English strings, read back as they are."""
        detected = data.get("detected_at")
        return cls(
            title=from_data(data["title"]),
            severity=Severity(data["severity"]),
            target=data["target"],
            source_label=from_data(data.get("source_label", "")),
            lines=tuple(map(from_data, data.get("lines", ()))),
            fields=tuple((from_data(k), from_data(v)) for k, v in data.get("fields", ())),
            excerpt=from_data(data["excerpt"]) if data.get("excerpt") is not None else None,
            links=tuple(Link(from_data(lk["label"]), lk["url"]) for lk in data.get("links", ())),
            actions=tuple(
                Action(a["kind"], from_data(a["label"]), a["value"])
                for a in data.get("actions", ())
            ),
            detected_at=datetime.fromisoformat(detected) if detected else None,
            threaded=bool(data.get("threaded", True)),
            evidence_url=data.get("evidence_url") or None,
        )


@dataclass(frozen=True, slots=True)
class ChannelAddress:
    """Where alerts go: ``console``, ``slack:C0123``, ``webhook:https://...``.

    The core treats ``address`` as opaque; only the adapter for ``platform`` interprets it.
    """

    platform: str
    address: str = ""

    def __str__(self) -> str:
        return f"{self.platform}:{self.address}" if self.address else self.platform
