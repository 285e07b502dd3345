"""The one HTTP client for user-supplied URLs: SSRF guard, timeouts, size caps, redirects,
conditional GET.

The guard runs on the address actually dialled (a resolver that filters what it returns), not
on the URL text alone, so DNS rebinding cannot slip past it; IP literals in every spelling
(decimal ``2130706433``, hex ``0x7f.1``, short ``127.1``, full-width digits, IPv4-mapped IPv6
...) are read the way the C library or aiohttp would read them before they are judged. Every
redirect hop passes the same gate. ``POLICYBOT_ALLOW_PRIVATE_URLS`` lifts it (tests, intranet
pages); ``POLICYBOT_PRIVATE_URL_ALLOWLIST`` opens named addresses or networks only.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict
from yarl import URL

from bot import __version__
from bot.config import Settings
from bot.errors import InvalidTarget, SourceError
from bot.model import Validators

USER_AGENT = f"policybot/{__version__} (+https://github.com/policybot/policybot)"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_REDIRECTS = (301, 302, 303, 307, 308)
# Headers that carry credentials: never sent on to another origin by a redirect.
_CREDENTIAL_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization")


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
            return f"{inner} (embedded in {ip})" if inner else None
    for attr, label in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, attr):
            return f"{label} address {ip}"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return f"carrier-grade NAT address {ip}"
    if not ip.is_global:
        return f"non-global address {ip}"
    return None


def literal_ip(host: str) -> IPAddress | None:
    """The address a host string denotes if it is an IP literal in any spelling."""
    host = host.strip("[]").rstrip(".")
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
    guard = Guard(allow_private, tuple(allowed))
    if "\\" in url:
        raise UnsafeURL(f"refused {url!r}: backslashes are not allowed in URLs")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURL(f"refused {url!r}: only http:// and https:// URLs are allowed")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURL("refused URL: credentials in URLs are not allowed")
    try:
        dialled = URL(url).host
    except (ValueError, UnicodeError):
        raise UnsafeURL(f"refused {url!r}: the host name is not valid") from None
    host = parts.hostname
    if not host or not dialled:
        raise UnsafeURL(f"refused {url!r}: no host")
    for candidate in dict.fromkeys((host, dialled)):
        ip = literal_ip(candidate)
        reason = guard.reason(ip) if ip is not None else None
        if reason:
            raise UnsafeURL(
                f"refused {url}: it points to a {reason}; set "
                "POLICYBOT_ALLOW_PRIVATE_URLS=true (or POLICYBOT_PRIVATE_URL_ALLOWLIST) to "
                "allow intranet addresses"
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
                raise UnsafeAddress(f"refused to connect to {host}: {reason}")
        try:
            results = await self._inner.resolve(host, port, family)
        except OSError as e:
            raise LookupFailed(f"DNS lookup failed for {host}: {e.strerror or e}") from e
        allowed = [r for r in results if not self._guard.reason(ipaddress.ip_address(r["host"]))]
        if not allowed:
            reasons = {self._guard.reason(ipaddress.ip_address(r["host"])) for r in results}
            raise UnsafeAddress(
                f"refused to connect to {host}: it resolves to "
                f"{', '.join(sorted(r for r in reasons if r))}"
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
    headers: Mapping[str, str] | None = None,
    allowed: Sequence[IPNetwork] = (),
) -> aiohttp.ClientSession:
    """An aiohttp session whose every connection passes the SSRF guard (unless allowed)."""
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
        connector=connector, timeout=timeout, headers={"User-Agent": USER_AGENT, **(headers or {})}
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
    json: Any = None,
    allowed: Sequence[IPNetwork] = (),
) -> Response:
    """One request with manual redirects (each hop checked) and a cap on decoded bytes.

    The first URL is the caller's to validate (``UnsafeURL`` here means a caller bug or a
    tightened setting); a redirect to a forbidden place is a failed fetch (``SourceError``
    with reason ``unsafe-url``). Credentials headers are dropped when a redirect leaves the
    origin.
    """
    origin = _origin(url)
    sent = dict(headers or {})
    for hop in range(limits.max_redirects + 1):
        if hop == 0:
            check_url(url, allow_private=allow_private, allowed=allowed)
        else:
            try:
                check_url(url, allow_private=allow_private, allowed=allowed)
            except UnsafeURL as e:
                raise SourceError(f"a redirect was refused: {e}", reason="unsafe-url") from None
            if _origin(url) != origin:
                sent = {k: v for k, v in sent.items() if k.title() not in _CREDENTIAL_HEADERS}
        try:
            async with session.request(
                method, url, headers=sent, json=json, allow_redirects=False
            ) as resp:
                if resp.status in _REDIRECTS and "Location" in resp.headers:
                    url = urljoin(url, resp.headers["Location"])
                    if resp.status == 303:
                        method, json = "GET", None
                    continue
                body = await _read_capped(resp, limits.max_bytes)
                return Response(resp.status, str(resp.url), CIMultiDict(resp.headers), body)
        except TimeoutError as e:
            raise SourceError(f"no answer from {_host(url)} in time", reason="timeout") from e
        except aiohttp.ClientConnectorError as e:
            raise _connect_error(url, e) from e
        except aiohttp.InvalidURL as e:
            raise SourceError(f"{_host(url)} is not a valid address", reason="unsafe-url") from e
        except aiohttp.ClientError as e:
            raise SourceError(
                f"network error talking to {_host(url)}: {type(e).__name__}", reason="network"
            ) from e
    raise SourceError(
        f"more than {limits.max_redirects} redirects from {_host(url)}", reason="redirects"
    )


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
        )
    except UnsafeURL as e:
        raise SourceError(str(e), reason="unsafe-url") from None
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


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """A ``Retry-After`` given in seconds, or None."""
    value = (headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else None


async def _read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """Read the decoded body, stopping at ``max_bytes`` (so a gzip bomb stops at the cap)."""
    too_large = SourceError(
        f"response from {_host(str(resp.url))} is larger than {max_bytes} bytes",
        reason="too-large",
    )
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise too_large  # decoded is never smaller than what is announced on the wire
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _connect_error(url: str, e: aiohttp.ClientConnectorError) -> SourceError:
    cause = e.os_error
    host = _host(url)
    if isinstance(cause, UnsafeAddress):
        return SourceError(f"{cause}", reason="unsafe-url")
    if isinstance(cause, LookupFailed) or isinstance(e, aiohttp.ClientConnectorDNSError):
        return SourceError(f"the name {host} does not resolve (DNS)", reason="dns")
    if isinstance(cause, ConnectionRefusedError):
        return SourceError(f"{host} refused the connection", reason="refused")
    return SourceError(f"cannot connect to {host}: {cause.strerror or cause}", reason="network")


def _origin(url: str) -> tuple[str, str, int | None]:
    u = URL(url)
    return (u.scheme, u.host or "", u.port)


def _host(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


__all__ = [
    "USER_AGENT",
    "Fetched",
    "Guard",
    "GuardedResolver",
    "Limits",
    "Response",
    "UnsafeURL",
    "check_url",
    "conditional_headers",
    "fetch",
    "forbidden_reason",
    "literal_ip",
    "make_session",
    "request",
    "retry_after_seconds",
]
