"""Capability URLs for evidence pages. Pure: HMAC-SHA256, no I/O.

A link names one thing (a change, or a target's timeline), the channel it was minted for and
when it stops working, and is signed with ``POLICYBOT_EVIDENCE_SECRET``::

    /evidence/c/<change id>/<channel tag>/<expires, unix seconds>/<signature>

The channel appears only as a tag (an HMAC of its address), never in clear: a webhook
channel's address is a credential, and a link shared outside the channel must not tell which
channel it came from. The server finds the subscription whose channel has that tag; when none
does any more (the channel unwatched), the link is dead. Rotating the secret kills every link
(tags and signatures both change). Anything that does not verify is simply "not found".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Kind = Literal["c", "t"]  # a change page, a target page
PREFIX = "/evidence"
_TAG_BYTES = 12
_SIG_BYTES = 20


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class Grant:
    """What a verified link allows: one change or one target, seen as one channel sees it."""

    kind: Kind
    id: int
    channel_tag: str
    expires: int  # unix seconds


class Signer:
    """Mints and checks links with one secret; ``base_url`` is POLICYBOT_PUBLIC_URL."""

    def __init__(self, secret: str, base_url: str = "", days: float = 90.0) -> None:
        if not secret:
            raise ValueError("an evidence link needs a secret (POLICYBOT_EVIDENCE_SECRET)")
        self._key = secret.encode()
        self.base_url = base_url.rstrip("/")
        self.lifetime = timedelta(days=days)

    def channel_tag(self, channel: str) -> str:
        digest = hmac.new(self._key, b"channel\x00" + channel.encode(), hashlib.sha256).digest()
        return _b64(digest[:_TAG_BYTES])

    def _signature(self, kind: str, id_: int, tag: str, expires: int) -> str:
        message = f"v1\x00{kind}\x00{id_}\x00{tag}\x00{expires}".encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest()[:_SIG_BYTES])

    def path(self, kind: Kind, id_: int, channel: str, now: datetime) -> str:
        """A new link's path, valid for the configured lifetime from ``now``."""
        expires = int((now + self.lifetime).timestamp())
        return self.path_for(Grant(kind, id_, self.channel_tag(channel), expires))

    def path_for(self, grant: Grant) -> str:
        """A link with the same channel and expiry as ``grant`` (page-to-page navigation:
        following a link never extends what the first link allowed)."""
        sig = self._signature(grant.kind, grant.id, grant.channel_tag, grant.expires)
        return f"{PREFIX}/{grant.kind}/{grant.id}/{grant.channel_tag}/{grant.expires}/{sig}"

    def url(self, kind: Kind, id_: int, channel: str, now: datetime) -> str:
        return self.base_url + self.path(kind, id_, channel, now)

    def verify(
        self, kind: str, id_: str, tag: str, expires: str, sig: str, now: datetime
    ) -> Grant | None:
        """The grant a link carries, or None when it is forged, altered or expired."""
        if kind not in ("c", "t") or not id_.isdigit() or not expires.isdigit():
            return None
        if len(id_) > 18 or len(expires) > 12 or len(tag) > 64 or len(sig) > 64:
            return None
        want = self._signature(kind, int(id_), tag, int(expires))
        if not hmac.compare_digest(want.encode(), sig.encode("utf-8", "replace")):
            return None
        if int(expires) <= now.timestamp():
            return None
        return Grant(kind, int(id_), tag, int(expires))  # type: ignore[arg-type]
