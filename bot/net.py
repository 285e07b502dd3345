"""The one HTTP client for user-supplied URLs: SSRF guard, timeouts, size caps, redirects.

The guard runs on the address actually dialled (a resolver that filters what it returns), not
on the URL text alone, so DNS rebinding cannot slip past it; IP literals in every spelling
(decimal ``2130706433``, hex ``0x7f.1``, short ``127.1``, IPv4-mapped IPv6 ...) are read the
way the C library would read them before they are judged. Every redirect hop passes the same
gate. ``POLICYBOT_ALLOW_PRIVATE_URLS`` lifts it for intranet pages and tests.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from bot import __version__
from bot.errors import InvalidTarget, SourceError

USER_AGENT = f"policybot/{__version__} (+https://github.com/policybot/policybot)"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")


class UnsafeURL(InvalidTarget):
    """A user-supplied URL that points somewhere policybot must not go."""


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
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return f"carrier-grade NAT address {ip}"
    if not ip.is_global:
        return f"non-global address {ip}"
    return None


def literal_ip(host: str) -> IPAddress | None:
    """The address a host string denotes if it is an IP literal in any spelling."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # inet_aton accepts 2130706433, 0x7f000001, 0177.0.0.1, 127.1 like the resolver does
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_url(url: str, *, allow_private: bool) -> str:
    """Refuse URLs that are not plain http(s) or that name a forbidden address literally."""
    if "\\" in url:
        raise UnsafeURL(f"refused {url!r}: backslashes are not allowed in URLs")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURL(f"refused {url!r}: only http:// and https:// URLs are allowed")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("refused URL: credentials in URLs are not allowed")
    host = parts.hostname
    if not host:
        raise UnsafeURL(f"refused {url!r}: no host")
    ip = literal_ip(host)
    if ip is not None and not allow_private:
        reason = forbidden_reason(ip)
        if reason:
            raise UnsafeURL(
                f"refused {url}: it points to a {reason}; set "
                "POLICYBOT_ALLOW_PRIVATE_URLS=true to allow intranet addresses"
            )
    return url


class GuardedResolver(AbstractResolver):
    """Resolves like the system does, then drops every forbidden address; none left → refuse."""

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        literal = literal_ip(host)
        if literal is not None:
            reason = forbidden_reason(literal)
            if reason:
                raise OSError(f"refused to connect to {host}: {reason}")
        try:
            results = await self._inner.resolve(host, port, family)
        except OSError as e:
            raise OSError(f"DNS lookup failed for {host}: {e}") from e
        allowed = [r for r in results if not forbidden_reason(ipaddress.ip_address(r["host"]))]
        if not allowed:
            reasons = {forbidden_reason(ipaddress.ip_address(r["host"])) for r in results}
            raise OSError(
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


def make_session(
    *, allow_private: bool, limits: Limits = Limits(), headers: Mapping[str, str] | None = None
) -> aiohttp.ClientSession:
    """An aiohttp session whose every connection passes the SSRF guard (unless allowed)."""
    resolver: AbstractResolver = aiohttp.ThreadedResolver() if allow_private else GuardedResolver()
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
    headers: Mapping[str, str]
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
) -> Response:
    """One request with manual redirects (each hop checked) and a cap on decoded bytes."""
    for _hop in range(limits.max_redirects + 1):
        check_url(url, allow_private=allow_private)
        try:
            async with session.request(
                method, url, headers=headers, json=json, allow_redirects=False
            ) as resp:
                if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                    url = urljoin(url, resp.headers["Location"])
                    if resp.status == 303:
                        method, json = "GET", None
                    continue
                body = await _read_capped(resp, limits.max_bytes)
                return Response(resp.status, str(resp.url), dict(resp.headers), body)
        except TimeoutError as e:
            raise SourceError(f"no answer from {_host(url)} in time", reason="timeout") from e
        except aiohttp.ClientConnectorError as e:
            raise SourceError(
                f"cannot connect to {_host(url)}: {e.os_error}",
                reason="refused" if "refused to" in str(e.os_error) else "network",
            ) from e
        except aiohttp.ClientError as e:
            raise SourceError(
                f"network error talking to {_host(url)}: {type(e).__name__}", reason="network"
            ) from e
    raise SourceError(
        f"more than {limits.max_redirects} redirects from {_host(url)}", reason="redirects"
    )


async def _read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """Read the decoded body, stopping at ``max_bytes`` (so a gzip bomb stops at the cap)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(
                f"response from {_host(str(resp.url))} is larger than {max_bytes} bytes",
                reason="too-large",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _host(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1]
