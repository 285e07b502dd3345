"""The Source port: what every kind of target (Hub repo, GitHub repo, page, feed) provides.

A source turns one fetch into an :class:`~bot.model.Observation` (normalised facts), a
:class:`~bot.model.NotModified` or a :class:`~bot.model.Gone`, or raises
:class:`~bot.errors.SourceError`; its ``detect`` and ``describe`` are pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.model import Change, FetchResult, Link, TargetRef, Validators


@dataclass(frozen=True, slots=True)
class History:
    """What detection may know besides the two snapshots it compares."""

    earlier: Mapping[str, Any] | None = None  # the snapshot the previous one replaced
    prev_since: datetime | None = None  # when the previous snapshot was taken
    now: datetime | None = None


class Source(Protocol):
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

    def detect(
        self, prev: Mapping[str, Any], new: Mapping[str, Any], history: History
    ) -> list[Change]: ...

    def describe(self, facts: Mapping[str, Any]) -> str:
        """One line of current state, printed after ``watch``."""
        ...

    def lines(self, facts: Mapping[str, Any]) -> list[str]:
        """The state as readable lines, for ``diff`` between any two versions."""
        ...

    async def aclose(self) -> None: ...
