"""The Source port: what every kind of target (Hub repo, GitHub repo, page, feed) provides.

A source turns one fetch into an :class:`~bot.domain.model.Observation` (normalised facts), a
:class:`~bot.domain.model.NotModified` or a :class:`~bot.domain.model.Gone`, or raises
:class:`~bot.domain.errors.SourceError`; its ``detect`` and ``describe`` are pure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeGuard, TypeVar, runtime_checkable

from bot.detect.history import History
from bot.domain.model import (
    Alert,
    Change,
    FetchResult,
    Link,
    Observation,
    TargetRef,
    Validators,
)
from bot.text.sniff import Sniffed

# A source's facts type (a TypedDict of bot.domain.facts). The protocols are generic over it so that
# each source's detect/describe/lines are checked against its own facts; the checker and the
# service hold sources of every kind at once and read facts back from JSON, so they see
# ``Source`` (= ``TypedSource[Any]``): the JSON boundary is where typing honestly stops.
F_contra = TypeVar("F_contra", contravariant=True)


class TypedSource(Protocol[F_contra]):
    kind: str

    def label(self, ref: TargetRef) -> str:
        """A short human name for the kind of target: "Hugging Face model"."""
        ...

    def links(self, ref: TargetRef, evidence: Mapping[str, Any]) -> list[Link]:
        """Evidence links for an alert: the repo page, the commit, the page URL."""
        ...

    async def fetch(
        self, ref: TargetRef, validators: Validators, options: Mapping[str, Any]
    ) -> FetchResult: ...

    def detect(self, prev: F_contra, new: F_contra, history: History) -> list[Change]: ...

    def describe(self, facts: F_contra) -> str:
        """One line of current state, printed after ``watch``."""
        ...

    def lines(self, facts: F_contra) -> list[str]:
        """The state as readable lines, for ``diff`` between any two versions."""
        ...

    async def aclose(self) -> None: ...


Source = TypedSource[Any]


@runtime_checkable
class StreamSource(Protocol):
    """Optional extension for sources whose targets are streams of items (feeds).

    The checker uses it when a source provides it; other sources keep the one-alert-per-check
    path. ``carry`` folds what must outlive a snapshot (the ids already seen) into the new
    facts before they are compared; ``announce`` turns the changes of one check into the
    alerts one subscription receives (its own filters, one per item or one grouped);
    ``backfill`` gives a new subscription the newest items once.

    Facts are ``Any`` here: the checker holds this as a runtime-checked extension of any
    source and passes JSON read back from the store; each implementation types its own.
    """

    def carry(self, prev: Any, new: Any) -> Any: ...

    def announce(
        self,
        ref: TargetRef,
        changes: Sequence[Change],
        facts: Any,
        options: Mapping[str, Any],
        now: datetime,
    ) -> list[Alert]: ...

    def backfill(
        self,
        ref: TargetRef,
        facts: Any,
        options: Mapping[str, Any],
        count: int,
        now: datetime,
    ) -> list[Alert]: ...


Views = Mapping[str, Mapping[str, Any]]  # view key → the options that make that view


@runtime_checkable
class ViewSource(TypedSource[Any], Protocol):
    """Optional extension for sources whose subscriptions each see their own *view* of one
    fetch (a page's ``select``/``ignore``): the fetch is shared, the view is not.

    A snapshot's facts hold one entry per view key; :meth:`view_facts` gives that entry, in
    the shape ``detect``, ``describe`` and ``lines`` take. An entry may carry ``error``
    (``{"reason", "message"}``) when only that view failed (its selector matches nothing):
    the other views go on. ``fetch_views`` asks for the views (a store query) only when it
    has a body to extract, so a 304 or an identical body costs nothing more. ``carry``
    keeps a failing view's last good text, so its recovery is compared with it.
    :meth:`detect_views` compares every view of one check, off the event loop.

    Facts are ``Any`` here as in :class:`StreamSource`: each implementation types its own (a page:
    :class:`bot.domain.facts.PageFacts` holding one :class:`bot.domain.facts.PageView` per key).
    """

    def view_key(self, options: Mapping[str, Any]) -> str:
        """The canonical key of the view a subscription's options ask for."""
        ...

    def view_facts(self, facts: Any, key: str) -> Mapping[str, Any] | None:
        """One view's entry in a snapshot's facts; None when that view has no version there."""
        ...

    async def fetch_views(
        self,
        ref: TargetRef,
        validators: Validators,
        views: Callable[[], Awaitable[Views]],
        previous: Callable[[], Awaitable[Any]] | None = None,
    ) -> FetchResult:
        """One fetch for every view. ``previous`` (asked for only when there is a new body)
        gives the facts of the target's latest snapshot, or None: a source may then compare
        each view in the same job that extracts it and answer a :class:`Detected`."""
        ...

    def carry(self, prev: Any, new: Any) -> Any: ...

    # Whether detection reads ``History.earlier`` (the snapshot before the previous one): when
    # it does not, the checker reads neither that snapshot nor its JSON.
    reads_earlier: bool

    async def detect_views(
        self, pairs: Mapping[str, tuple[Any, Any, History]]
    ) -> Mapping[str, list[Change]]:
        """``detect`` for each view key's (previous, new, history), all of one check at once:
        a source may send them off the event loop together (one job per check, not per view).
        Every key of ``pairs`` is in the answer."""
        ...


@dataclass(frozen=True, slots=True)
class Detected(Observation):
    """An observation of a :class:`ViewSource` whose views were already compared with the
    ``previous`` facts (in the job that extracted them: one worker round trip per changed
    page): ``detected`` holds ``detect``'s answer by view key, for every view that had a
    previous version to compare with."""

    detected: Mapping[str, list[Change]] = field(default_factory=dict)


@runtime_checkable
class Sniffer(Protocol):
    """Optional: a source that can tell whether a bare URL is its kind (one guarded GET)."""

    async def sniff(self, url: str) -> Sniffed:
        """Fetch ``url`` once and judge it; raises SourceError when it cannot be fetched."""
        ...


_VIEWS: dict[type, bool] = {}
_STREAMS: dict[type, bool] = {}


def is_view_source(source: object) -> TypeGuard[ViewSource]:
    """``isinstance(source, ViewSource)``, answered once per class: a runtime-checkable
    protocol's ``isinstance`` walks the protocol's attributes on every call (about 40 µs on
    Python 3.11), and the checker asks for every check of a cycle."""
    kind = type(source)
    if (known := _VIEWS.get(kind)) is None:
        known = _VIEWS[kind] = isinstance(source, ViewSource)
    return known


def is_stream_source(source: object) -> TypeGuard[StreamSource]:
    """``isinstance(source, StreamSource)``, answered once per class (see
    :func:`is_view_source`)."""
    kind = type(source)
    if (known := _STREAMS.get(kind)) is None:
        known = _STREAMS[kind] = isinstance(source, StreamSource)
    return known
