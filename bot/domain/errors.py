"""One error tree for the whole bot.

Library exceptions are converted at the edge (``raise ... from e``) so the core only ever sees
these. Per-target failures are recorded as values; they never stop a scheduler tick.

    BotError
    ├── ConfigError            startup: a setting is missing or invalid
    ├── DatabaseUnavailable    the database does not answer (``run`` retries; others exit 1)
    ├── UsageError             bad command input; the message is shown to the user verbatim
    │   └── InvalidTarget      a reference or URL we cannot watch
    ├── SourceError            one check of one target failed (reason is a short machine tag)
    │   ├── AccessDenied       401/403 that is not "gone"
    │   └── RateLimited        429 / rate-limit headers; carries retry_after
    └── DeliveryError          one delivery failed; retryable unless ChannelGone
        └── ChannelGone        the channel is gone or we lost access: stop delivering there
"""

from __future__ import annotations

from enum import StrEnum
from typing import NewType


class BotError(Exception):
    """Base of every error policybot raises on purpose."""

    @property
    def message(self) -> str:
        """The text as raised: a message (:class:`bot.i18n.Msg`) a reply or an alert can say
        in its reader's language, where ``str(err)`` keeps only the English."""
        said = self.args[0] if self.args else ""
        return said if isinstance(said, str) else str(self)


class ConfigError(BotError):
    """A setting is missing or invalid; raised at startup only."""


class DatabaseUnavailable(BotError):
    """The database could not be reached; ``str(err)`` names its URL, password masked."""


class UsageError(BotError):
    """Bad command input, written for the user who typed it (:attr:`BotError.message`)."""


class InvalidTarget(UsageError):
    """A target reference or URL that policybot cannot watch."""


class FailureReason(StrEnum):
    """Why a check failed: the machine tag stored in ``targets.last_error_reason`` and shown
    to users, so each value is exactly the string used before this enum existed (a StrEnum
    compares equal to it, and the stored rows stay valid)."""

    TIMEOUT = "timeout"
    NETWORK = "network"
    DNS = "dns"
    REFUSED = "refused"
    REDIRECTS = "redirects"
    TOO_LARGE = "too-large"
    UNSAFE_URL = "unsafe-url"
    MALFORMED = "malformed"
    RATE_LIMITED = "rate-limited"
    NOT_FOUND = "not-found"
    UNCONFIRMED_GONE = "unconfirmed-gone"
    GATED_REFUSED = "gated-refused"
    BOT_BLOCK = "bot-block"
    NOT_A_PAGE = "not-a-page"
    SELECTOR_EMPTY = "selector-empty"
    NO_TEXT = "no-text"
    BAD_SELECTOR = "bad-selector"
    BAD_IGNORE = "bad-ignore"
    UNPARSABLE = "unparsable"


HttpReason = NewType("HttpReason", str)
"""``http-<status>``: the one open-ended family of reasons, made only by :func:`http_reason`."""


def http_reason(status: int) -> HttpReason:
    return HttpReason(f"http-{status}")


Reason = FailureReason | HttpReason


class SourceError(BotError):
    """A failed check: the fetch did not give a trustworthy answer.

    ``reason`` is a short tag used for logs, metrics and health alerts (``timeout``,
    ``http-500``, ``network``, ``malformed``, ``rate-limited`` ...); ``str(err)`` is the
    human sentence in English (logs, ``targets.last_error``) and :attr:`message` the same
    sentence as raised, a message a health alert or a reply can say in its reader's language.
    """

    def __init__(self, message: str, *, reason: Reason, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.retry_after = retry_after


class AccessDenied(SourceError):
    """Upstream refused us (401/403) for a reason other than the target being gone."""


class RateLimited(SourceError):
    """Upstream asked us to slow down; ``retry_after`` says for how long (seconds)."""


class DeliveryError(BotError):
    """A delivery failed. ``retry_after`` is honoured when the platform gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelGone(DeliveryError):
    """The channel no longer accepts our messages (deleted, archived, kicked, bad token)."""
