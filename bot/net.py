"""The one HTTP client: SSRF guard, timeouts, size caps, redirects, credentials, status
mapping, ``Retry-After``, conditional GET. Every HTTP request policybot makes itself (pages,
feeds, sniffing, GitHub, the webhook channels) goes through :class:`HttpClient`; only the chat
libraries (slack_sdk, discord.py) and huggingface_hub keep their own clients.

Credentials (the GitHub token, webhook secrets) are passed per request, never as session
defaults, and are sent only to the origin of the first URL: any cross-origin redirect hop drops
them, and the session keeps no cookies at all. Error messages name the host only; a URL's
path and query may be a credential (webhook URLs) and never appear in them.

The guard runs on the address actually dialled (a resolver that filters what it returns), not
on the URL text alone, so DNS rebinding cannot slip past it; IP literals in every spelling
(decimal ``2130706433``, hex ``0x7f.1``, short ``127.1``, full-width digits, IPv4-mapped IPv6
...) are read the way the C library or aiohttp would read them before they are judged. Every
redirect hop passes the same gate. ``POLICYBOT_ALLOW_PRIVATE_URLS`` lifts it (tests, intranet
pages); ``POLICYBOT_PRIVATE_URL_ALLOWLIST`` opens named addresses or networks only.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict
from yarl import URL

from bot import __version__
from bot.config import Settings
from bot.domain.errors import (
    AccessDenied,
    ChannelGone,
    DeliveryError,
    FailureReason,
    InvalidTarget,
    RateLimited,
    Reason,
    SourceError,
    http_reason,
)
from bot.domain.model import Validators
from bot.i18n import joined, msg
from bot.logs import register_secret_url

USER_AGENT = f"policybot/{__version__} (+https://github.com/policybot/policybot)"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_REDIRECTS = (301, 302, 303, 307, 308)
# A host name or IP literal as it may appear in a URL: letters, digits, dots, hyphens
# (IDNA is already folded by then), colons for IPv6.
_HOST = re.compile(r"[A-Za-z0-9._:-]{1,253}|[^\x00-\x7f]+(?:\.[^\x00-\x7f.]+)*")
# Headers that carry credentials: never sent on to another origin by a redirect.
_CREDENTIAL_HEADERS = frozenset(
    h.lower()
    for h in (
        "Authorization",
        "Cookie",
        "Proxy-Authorization",
        "Private-Token",
        "X-Api-Key",
        "X-Auth-Token",
        "X-Webhook-Secret",
    )
)
# Longest link placed in a chat message: fits a Discord field value (1,024) with its label
# and is far inside Slack's 3,000 for a button URL; evidence links are never this long.
LINK_MAX = 900


class UnsafeURL(InvalidTarget):
    """A user-supplied URL that points somewhere policybot must not go."""


class UnsafeAddress(OSError):
    """The resolver refused every address a name resolved to (raised inside aiohttp)."""


class LookupFailed(OSError):
    """The name did not resolve at all; a DNS failure refuses, it never falls back."""


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be dialled, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: IPAddress | None = None
        if ip.ipv4_mapped is not None:
            embedded = ip.ipv4_mapped
        elif ip.teredo is not None:
            embedded = ip.teredo[1]
        elif ip in _SIXTOFOUR:
            embedded = ipaddress.IPv4Address(int(ip) >> 80 & 0xFFFFFFFF)
        elif ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = forbidden_reason(embedded)
            return msg("{inner} (embedded in {ip})", inner=inner, ip=str(ip)) if inner else None
    for attr, label in (
        ("is_loopback", msg("loopback address {ip}", ip=str(ip))),
        ("is_link_local", msg("link-local address {ip}", ip=str(ip))),
        ("is_multicast", msg("multicast address {ip}", ip=str(ip))),
        ("is_unspecified", msg("unspecified address {ip}", ip=str(ip))),
        ("is_reserved", msg("reserved address {ip}", ip=str(ip))),
        ("is_private", msg("private address {ip}", ip=str(ip))),
    ):
        if getattr(ip, attr):
            return label
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return msg("carrier-grade NAT address {ip}", ip=str(ip))
    if not ip.is_global:
        return msg("non-global address {ip}", ip=str(ip))
    return None


# A host made of letters, digits, dots and hyphens with a letter that is neither a hex digit nor
# the x of 0x is a name in every spelling: ipaddress and inet_aton both refuse it (inet_aton's
# tolerance of text after a space cannot apply: there is no space). Most watched hosts are
# names, and two refused parses (two exceptions) per URL were most of this check's cost.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9.-]*[G-WYZg-wyz][A-Za-z0-9.-]*")


def literal_ip(host: str) -> IPAddress | None:
    """The address a host string denotes if it is an IP literal in any spelling."""
    host = host.strip("[]").rstrip(".")
    if _PLAIN_NAME.fullmatch(host):
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # inet_aton accepts 2130706433, 0x7f000001, 0177.0.0.1, 127.1 like the resolver does
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Guard:
    """The policy for user-supplied URLs: everything public, plus what the operator allowed."""

    allow_private: bool = False
    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Guard:
        return cls(settings.allow_private_urls, settings.private_networks_allowed)

    def reason(self, ip: IPAddress) -> str | None:
        if self.allow_private or any(ip in net for net in self.allowed):
            return None
        return forbidden_reason(ip)


def check_url(url: str, *, allow_private: bool, allowed: Sequence[IPNetwork] = ()) -> str:
    """Refuse URLs that are not plain http(s) or that name a forbidden address literally.

    The host is judged both as written and as aiohttp will dial it (yarl folds full-width
    digits, IDNA and case), because aiohttp skips the resolver for anything that is an IP.
    """
    return _checked_url(url, allow_private, tuple(allowed))


@functools.lru_cache(maxsize=16384)
def _checked_url(url: str, allow_private: bool, allowed: tuple[IPNetwork, ...]) -> str:
    """:func:`check_url`, remembered: the verdict depends on nothing but its arguments, and a
    cycle asks it again for every watched URL (refusals raise, so they are never cached)."""
    guard = Guard(allow_private, allowed)
    if "\\" in url:
        raise UnsafeURL(
            msg("refused {url}: backslashes are not allowed in URLs", url=redact_url(url))
        )
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURL(
            msg("refused {url}: only http:// and https:// URLs are allowed", url=redact_url(url))
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURL(msg("refused URL: credentials in URLs are not allowed"))
    try:
        dialled = URL(url).host
    except (ValueError, UnicodeError):
        raise UnsafeURL(
            msg("refused {url}: the host name is not valid", url=redact_url(url))
        ) from None
    host = parts.hostname
    if not host or not dialled:
        raise UnsafeURL(msg("refused {url}: no host", url=redact_url(url)))
    for candidate in dict.fromkeys((host, dialled)):
        if guard.allow_private:  # every address is allowed: nothing to parse
            break
        ip = literal_ip(candidate)
        reason = guard.reason(ip) if ip is not None else None
        if reason:
            raise UnsafeURL(
                msg(
                    "refused {url}: it points to a {reason}; set "
                    "POLICYBOT_ALLOW_PRIVATE_URLS=true (or POLICYBOT_PRIVATE_URL_ALLOWLIST) to "
                    "allow intranet addresses",
                    url=redact_url(url),
                    reason=reason,
                )
            )
    return url


class GuardedResolver(AbstractResolver):
    """Resolves like the system does, then drops every forbidden address; none left → refuse."""

    def __init__(self, allowed: Sequence[IPNetwork] = ()) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._guard = Guard(False, tuple(allowed))

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        literal = literal_ip(host)
        if literal is not None:
            reason = self._guard.reason(literal)
            if reason:
                raise UnsafeAddress(
                    msg("refused to connect to {host}: {reason}", host=host, reason=reason)
                )
        try:
            results = await self._inner.resolve(host, port, family)
        except OSError as e:
            raise LookupFailed(
                msg("DNS lookup failed for {host}: {error}", host=host, error=str(e.strerror or e))
            ) from e
        allowed = [r for r in results if not self._guard.reason(ipaddress.ip_address(r["host"]))]
        if not allowed:
            reasons = {self._guard.reason(ipaddress.ip_address(r["host"])) for r in results}
            raise UnsafeAddress(
                msg(
                    "refused to connect to {host}: it resolves to {reasons}",
                    host=host,
                    reasons=joined(", ", sorted(r for r in reasons if r)),
                )
            )
        return allowed

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True, slots=True)
class Limits:
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 45.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    per_host: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            connect_timeout=settings.http_connect_timeout,
            read_timeout=settings.http_read_timeout,
            total_timeout=settings.http_total_timeout,
            max_bytes=settings.http_max_bytes,
            max_redirects=settings.http_max_redirects,
            per_host=settings.http_per_host,
        )


def make_session(
    *,
    allow_private: bool,
    limits: Limits = Limits(),
    allowed: Sequence[IPNetwork] = (),
) -> aiohttp.ClientSession:
    """An aiohttp session whose every connection passes the SSRF guard (unless allowed).

    It carries no credentials and keeps no cookies (a cookie jar ignores ports, so a cookie
    set by one local server would reach another): credentials go per request.
    """
    resolver: AbstractResolver = (
        aiohttp.ThreadedResolver() if allow_private else GuardedResolver(allowed)
    )
    connector = aiohttp.TCPConnector(resolver=resolver, limit=100, limit_per_host=limits.per_host)
    timeout = aiohttp.ClientTimeout(
        total=limits.total_timeout,
        sock_connect=limits.connect_timeout,
        sock_read=limits.read_timeout,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        cookie_jar=aiohttp.DummyCookieJar(),
    )


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    url: str
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


async def request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    allow_private: bool,
    limits: Limits = Limits(),
    headers: Mapping[str, str] | None = None,
    credentials: Mapping[str, str] | None = None,
    json: Any = None,
    data: Any = None,
    allowed: Sequence[IPNetwork] = (),
) -> Response:
    """One request with manual redirects (each hop checked) and a cap on decoded bytes.

    The first URL is the caller's to validate (``UnsafeURL`` here means a caller bug or a
    tightened setting); a redirect to a forbidden place is a failed fetch (``SourceError``
    with reason ``unsafe-url``). ``credentials`` (and any credential-like header in
    ``headers``) go only to the first URL's origin: once a redirect leaves it they are
    dropped for the rest of the chain.
    """
    first_url = url  # its origin is worked out at the first redirect (most requests have none)
    plain = {k: v for k, v in (headers or {}).items() if k.lower() not in _CREDENTIAL_HEADERS}
    secret = {k: v for k, v in (headers or {}).items() if k.lower() in _CREDENTIAL_HEADERS}
    secret.update(credentials or {})
    for hop in range(limits.max_redirects + 1):
        if hop == 0:
            check_url(url, allow_private=allow_private, allowed=allowed)
        else:
            try:
                check_url(url, allow_private=allow_private, allowed=allowed)
            except UnsafeURL as e:
                raise SourceError(
                    msg("a redirect was refused: {why}", why=e.message),
                    reason=FailureReason.UNSAFE_URL,
                ) from None
            if _origin(url) != _origin(first_url):
                secret = {}
        try:
            async with session.request(
                method,
                url,
                headers={**plain, **secret},
                json=json,
                data=data,
                allow_redirects=False,
            ) as resp:
                if resp.status in _REDIRECTS and "Location" in resp.headers:
                    url = urljoin(url, resp.headers["Location"])
                    if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                        method, json, data = "GET", None, None
                    continue
                body = await _read_capped(resp, limits.max_bytes)
                return Response(resp.status, str(resp.url), CIMultiDict(resp.headers), body)
        except TimeoutError as e:
            raise SourceError(
                msg("no answer from {host} in time", host=_host(url)),
                reason=FailureReason.TIMEOUT,
            ) from e
        except aiohttp.ClientConnectorError as e:
            raise _connect_error(url, e) from e
        except (aiohttp.InvalidURL, ValueError) as e:
            raise SourceError(
                msg("{host} is not a valid address", host=_host(url)),
                reason=FailureReason.UNSAFE_URL,
            ) from e
        except aiohttp.ClientError as e:
            raise SourceError(
                msg(
                    "network error talking to {host}: {error}",
                    host=_host(url),
                    error=type(e).__name__,
                ),
                reason=FailureReason.NETWORK,
            ) from e
    raise SourceError(
        msg(
            "more than {count} redirects from {host}",
            count=str(limits.max_redirects),
            host=_host(url),
        ),
        reason=FailureReason.REDIRECTS,
    )


class HttpClient:
    """The one way out: a lazily opened guarded session, the operator's limits, and
    credentials per request.

    ``guard`` says which addresses may be dialled: the operator's settings for user-supplied
    URLs, :meth:`trusted` for endpoints the operator configured (the GitHub API, Discord's
    API). Closing is idempotent and a closed client reopens on its next request.
    """

    def __init__(self, guard: Guard, limits: Limits = Limits()) -> None:
        self.guard = guard
        self.limits = limits
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def for_users(cls, settings: Settings, **limits: Any) -> HttpClient:
        """For user-supplied URLs: the SSRF guard and limits as the operator set them."""
        return cls(Guard.from_settings(settings), replace(Limits.from_settings(settings), **limits))

    @classmethod
    def trusted(cls, settings: Settings, **limits: Any) -> HttpClient:
        """For an endpoint the operator configured (it may well be on the intranet)."""
        return cls(Guard(allow_private=True), replace(Limits.from_settings(settings), **limits))

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = make_session(
                allow_private=self.guard.allow_private,
                allowed=self.guard.allowed,
                limits=self.limits,
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        credentials: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
    ) -> Response:
        """One request; every failure to get an answer is a ``SourceError`` with a reason
        (``unsafe-url`` for a URL the guard refuses, first hop included)."""
        try:
            return await request(
                self._open(),
                method,
                url,
                allow_private=self.guard.allow_private,
                allowed=self.guard.allowed,
                limits=self.limits,
                headers=headers,
                credentials=credentials,
                json=json,
                data=data,
            )
        except UnsafeURL as e:
            raise SourceError(e.message, reason=FailureReason.UNSAFE_URL) from None

    async def fetch(
        self,
        url: str,
        *,
        validators: Validators | None = None,
        headers: Mapping[str, str] | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> Fetched:
        """A conditional GET (see :func:`fetch`)."""
        return await fetch(
            self._open(),
            url,
            guard=self.guard,
            limits=self.limits,
            validators=validators,
            headers=headers,
            credentials=credentials,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


@dataclass(frozen=True, slots=True)
class Fetched:
    """One conditional GET: the final answer, and the validators to send next time."""

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def conditional_headers(validators: Validators) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` for what we have; never an empty validator."""
    out: dict[str, str] = {}
    if validators.etag and validators.etag.strip():
        out["If-None-Match"] = validators.etag.strip()
    if validators.last_modified and validators.last_modified.strip():
        out["If-Modified-Since"] = validators.last_modified.strip()
    return out


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    guard: Guard,
    limits: Limits = Limits(),
    validators: Validators | None = None,
    headers: Mapping[str, str] | None = None,
    credentials: Mapping[str, str] | None = None,
) -> Fetched:
    """A conditional GET through the guard; every failure is a ``SourceError`` with a reason.

    On 304 the validators we sent are kept unless the server sent new ones; on other answers
    they are what the server sent (absent ones stay absent) plus the sha256 of the body.
    """
    validators = validators or Validators()
    try:
        resp = await request(
            session,
            "GET",
            url,
            allow_private=guard.allow_private,
            allowed=guard.allowed,
            limits=limits,
            headers={**(headers or {}), **conditional_headers(validators)},
            credentials=credentials,
        )
    except UnsafeURL as e:
        raise SourceError(e.message, reason=FailureReason.UNSAFE_URL) from None
    etag = resp.headers.get("ETag") or None
    modified = resp.headers.get("Last-Modified") or None
    if resp.status == 304:
        kept = Validators(
            etag or validators.etag, modified or validators.last_modified, validators.body_digest
        )
        return Fetched(304, resp.url, resp.headers, b"", kept)
    digest = hashlib.sha256(resp.body).hexdigest()
    return Fetched(
        resp.status, resp.url, resp.headers, resp.body, Validators(etag, modified, digest)
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds (``120``, ``1.5``) or an
    HTTP-date (``Wed, 21 Oct 2015 07:28:00 GMT``, counted from ``now``); None when absent or
    unreadable. Never negative."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The ``Retry-After`` of a response (seconds or HTTP-date), or None."""
    return parse_retry_after(headers.get("Retry-After"), now)


def status_error(
    status: int,
    headers: Mapping[str, str],
    *,
    site: str,
    wording: Mapping[int, tuple[str, Reason]] | None = None,
) -> SourceError | None:
    """The one status → error mapping for checks: None for 2xx and 304, else the failed
    check's error. The class is decided here (429, and 503 with ``Retry-After``, are
    ``RateLimited`` with the wait; 401/403 ``AccessDenied``; the rest ``SourceError``);
    ``wording`` lets a source say it its own way: ``{status: (message, reason)}``."""
    if 200 <= status < 300 or status == 304:
        return None
    wait = retry_after_seconds(headers)
    message, reason = (wording or {}).get(status, ("", None))
    code = str(status)  # a status code is a code, not a number to group (no "1.000")
    if status == 429 or (status == 503 and wait is not None):
        return RateLimited(
            message or msg("{site} asks us to slow down (HTTP {status})", site=site, status=code),
            reason=reason or FailureReason.RATE_LIMITED,
            retry_after=wait,
        )
    if status in (401, 403):
        return AccessDenied(
            message or msg("{site} refused access (HTTP {status})", site=site, status=code),
            reason=reason or http_reason(status),
        )
    if status in (404, 410):
        message = message or msg(
            "{site} says it does not exist (HTTP {status})", site=site, status=code
        )
    return SourceError(
        message or msg("{site} answered HTTP {status}", site=site, status=code),
        reason=reason or http_reason(status),
    )


def delivery_error(
    status: int,
    headers: Mapping[str, str],
    *,
    what: str,
    detail: str = "",
    retry_after: float | None = None,
) -> DeliveryError | None:
    """The one status → error mapping for deliveries: None for 2xx; 408, 429 and 5xx may
    work later (``DeliveryError`` with the wait); any other answer can never succeed (the
    webhook is gone, refuses us, or is not a webhook): ``ChannelGone``, so the outbox stops
    instead of retrying twenty times."""
    if 200 <= status < 300:
        return None
    said = f"HTTP {status}" + (f" {detail}" if detail else "")
    if status in (408, 429) or status >= 500:
        wait = retry_after if retry_after is not None else retry_after_seconds(headers)
        return DeliveryError(f"{what} answered {said}", retry_after=wait)
    return ChannelGone(f"{what} answered {said}: it will never accept our alerts")


async def post_webhook(
    http: HttpClient,
    url: str,
    what: str,
    *,
    json: Any = None,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """POST to a webhook channel's URL. The URL is a credential: it is registered with the
    log redactor first, and no error quotes it. A URL the guard refuses (or that is not a
    valid URL) is ``ChannelGone``: no retry can fix it; a network failure may pass."""
    register_secret_url(url)
    try:
        return await http.request("POST", url, json=json, data=data, headers=headers)
    except SourceError as e:
        if e.reason == "unsafe-url":
            raise ChannelGone(f"{what} refused by the URL guard: {e}") from None
        raise DeliveryError(f"{what} unreachable: {e}") from None


def redact_url(url: str) -> str:
    """``https://hooks.example/T0/B0/secret?x=1`` → ``https://hooks.example/…``: the host
    is fine to show, the path and query may be a credential."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "<invalid URL>"
    host = parts.netloc.rsplit("@", 1)[-1]
    rest = "…" if (parts.path.strip("/") or parts.query or parts.fragment) else ""
    if not host:
        return f"{parts.scheme}:…" if parts.scheme else "<invalid URL>"
    return f"{parts.scheme}://{host}/{rest}"


def check_webhook_url(url: str, guard: Guard) -> str:
    """A webhook channel's URL, checked when the watch is created: https (http only where
    private URLs are allowed, i.e. tests and intranets), a well-formed host, and the SSRF
    gate. The message never shows the path, which is the credential."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL(msg("refused {url}: not a well-formed URL", url=redact_url(url))) from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and guard.allow_private):
        raise UnsafeURL(
            msg("refused {url}: a webhook URL must start with https://", url=redact_url(url))
        )
    host = parts.hostname or ""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise UnsafeURL(
            msg("refused {url}: a URL cannot contain spaces or controls", url=redact_url(url))
        )
    if not host or port == 0 or not _HOST.fullmatch(host.strip("[]")):
        raise UnsafeURL(msg("refused {url}: the host name is not valid", url=redact_url(url)))
    return check_url(url, allow_private=guard.allow_private, allowed=guard.allowed)


def safe_link(url: str, max_length: int = LINK_MAX) -> str | None:
    """A link fit to place in a chat message: http(s) with a host, no spaces or control
    characters, at most ``max_length`` characters; None otherwise (the link is dropped, not
    sent for the platform to refuse the whole message)."""
    url = url.strip()
    if not url or len(url) > max_length:
        return None
    if any(c.isspace() or ord(c) < 32 or 127 <= ord(c) < 160 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


async def _read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """Read the decoded body, stopping at ``max_bytes`` (so a gzip bomb stops at the cap)."""

    def too_large() -> SourceError:  # built only when raised: its message costs on every read
        return SourceError(
            msg(
                "response from {host} is larger than {size} bytes",
                host=_host(str(resp.url)),
                size=str(max_bytes),
            ),
            reason=FailureReason.TOO_LARGE,
        )

    if resp.content_length is not None and resp.content_length > max_bytes:
        raise too_large()  # decoded is never smaller than what is announced on the wire
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _connect_error(url: str, e: aiohttp.ClientConnectorError) -> SourceError:
    cause = e.os_error
    host = _host(url)
    if isinstance(cause, UnsafeAddress):
        said = cause.args[0] if cause.args and isinstance(cause.args[0], str) else str(cause)
        return SourceError(said, reason=FailureReason.UNSAFE_URL)
    if isinstance(cause, LookupFailed) or isinstance(e, aiohttp.ClientConnectorDNSError):
        return SourceError(
            msg("the name {host} does not resolve (DNS)", host=host), reason=FailureReason.DNS
        )
    if isinstance(cause, ConnectionRefusedError):
        return SourceError(
            msg("{host} refused the connection", host=host), reason=FailureReason.REFUSED
        )
    return SourceError(
        msg("cannot connect to {host}: {error}", host=host, error=str(cause.strerror or cause)),
        reason=FailureReason.NETWORK,
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    u = URL(url)
    return (u.scheme, u.host or "", u.port)


def _host(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


__all__ = [
    "LINK_MAX",
    "USER_AGENT",
    "Fetched",
    "Guard",
    "GuardedResolver",
    "HttpClient",
    "Limits",
    "Response",
    "UnsafeURL",
    "check_url",
    "check_webhook_url",
    "conditional_headers",
    "delivery_error",
    "fetch",
    "forbidden_reason",
    "literal_ip",
    "make_session",
    "parse_retry_after",
    "post_webhook",
    "redact_url",
    "request",
    "retry_after_seconds",
    "safe_link",
    "status_error",
]
