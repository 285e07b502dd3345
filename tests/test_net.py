"""The guarded HTTP client on its own: what the SSRF gate refuses, the resolver that filters
what it returns, conditional headers, credential headers on redirects, and the limits (slow
answers, huge bodies, gzip bombs, redirect chains) against a real local server."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from datetime import UTC, datetime

import pytest

from bot.domain.errors import (
    AccessDenied,
    ChannelGone,
    DeliveryError,
    FailureReason,
    RateLimited,
    SourceError,
)
from bot.domain.model import Validators
from bot.logs import Redactor, register_secret_url
from bot.net import (
    Guard,
    GuardedResolver,
    HttpClient,
    Limits,
    LookupFailed,
    UnsafeAddress,
    UnsafeURL,
    check_url,
    conditional_headers,
    delivery_error,
    fetch,
    make_session,
    parse_retry_after,
    redact_url,
    request,
    status_error,
)
from tests.fakes.web import FakeWeb

OPEN = Guard(allow_private=True)
LIMITS = Limits(total_timeout=1.0, read_timeout=1.0, max_bytes=1_000_000, max_redirects=3)


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local address 169.254.169.254"),
        ("http://169.254.169.254./", "link-local address 169.254.169.254"),
        ("http://[fd00:ec2::254]/", "private address fd00:ec2::254"),
        ("http://[::ffff:169.254.169.254]/", "embedded in ::ffff:a9fe:a9fe"),
        ("http://[2002:a9fe:a9fe::1]/", "link-local address 169.254.169.254 (embedded"),
        ("http://[64:ff9b::7f00:1]/", "loopback address 127.0.0.1 (embedded"),
        ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "(embedded in 2001:0"),
        ("http://2852039166/", "link-local address 169.254.169.254"),
        ("http://0xa9.0xfe.0xa9.0xfe/", "link-local address 169.254.169.254"),
        ("http://0251.0376.0251.0376/", "link-local address 169.254.169.254"),
        ("http://127.1/", "loopback address 127.0.0.1"),
        ("http://\uff11\uff12\uff17.0.0.1/", "loopback address 127.0.0.1"),
        ("http://100.100.100.200/", "carrier-grade NAT address 100.100.100.200"),
        ("http://192.168.1.1/", "private address 192.168.1.1"),
        ("http://224.0.0.1/", "multicast address 224.0.0.1"),
        ("http://240.0.0.1/", "reserved address 240.0.0.1"),
        ("http://0.0.0.0/", "unspecified address 0.0.0.0"),
        ("http://[::]/", "unspecified address ::"),
        ("http://[fe80::1%25eth0]/", "link-local address"),
    ],
)
def test_forbidden_addresses_in_every_spelling_are_refused(url: str, why: str) -> None:
    with pytest.raises(UnsafeURL) as caught:
        check_url(url, allow_private=False)
    assert why in str(caught.value)
    assert "POLICYBOT_ALLOW_PRIVATE_URLS" in str(caught.value)
    assert check_url(url, allow_private=True) == url, "the setting lifts the guard"


@pytest.mark.parametrize(
    "url, why",
    [
        ("file:///etc/passwd", "only http:// and https://"),
        ("gopher://example.com/", "only http:// and https://"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://example.com\\@10.0.0.1/", "backslashes"),
        ("http:///nohost", "no host"),
    ],
)
def test_malformed_urls_are_refused_even_when_private_addresses_are_allowed(
    url: str, why: str
) -> None:
    with pytest.raises(UnsafeURL, match=why):
        check_url(url, allow_private=True)


def test_public_addresses_and_names_pass_the_literal_check() -> None:
    for url in ("https://www.docker.com/pricing/", "http://8.8.8.8/", "http://[2606:4700::1]/"):
        assert check_url(url, allow_private=False) == url


def test_the_allowlist_opens_only_what_it_names() -> None:
    allowed = (ipaddress.ip_network("10.8.0.0/16"),)
    assert check_url("http://10.8.1.2/", allow_private=False, allowed=allowed)
    with pytest.raises(UnsafeURL):
        check_url("http://10.9.1.2/", allow_private=False, allowed=allowed)
    with pytest.raises(UnsafeURL):
        check_url("http://169.254.169.254/", allow_private=False, allowed=allowed)


async def test_resolver_refuses_loopback_names_and_dns_failures() -> None:
    resolver = GuardedResolver()
    try:
        with pytest.raises(UnsafeAddress, match="loopback address"):
            await resolver.resolve("localhost", 80)
        with pytest.raises(LookupFailed, match=r"DNS lookup failed for no-such-host\.invalid"):
            await resolver.resolve("no-such-host.invalid", 80)
    finally:
        await resolver.close()
    opened = GuardedResolver(allowed=(ipaddress.ip_network("127.0.0.1/32"),))
    try:
        found = await opened.resolve("localhost", 80, family=0)  # type: ignore[arg-type]
        assert {r["host"] for r in found} == {"127.0.0.1"}, "::1 was filtered out"
    finally:
        await opened.close()


def test_conditional_headers_never_carry_an_empty_validator() -> None:
    assert conditional_headers(Validators()) == {}
    assert conditional_headers(Validators(etag="", last_modified="  ")) == {}
    assert conditional_headers(Validators(etag='W/"a"', last_modified=None)) == {
        "If-None-Match": 'W/"a"'
    }


async def test_fetch_returns_validators_and_304_keeps_them(web: FakeWeb) -> None:
    web.set_page("/p", "<p>x</p>")
    async with make_session(allow_private=True, limits=LIMITS) as session:
        first = await fetch(session, f"{web.url}/p", guard=OPEN, limits=LIMITS)
        assert first.status == 200 and first.validators.etag and first.validators.body_digest
        again = await fetch(
            session, f"{web.url}/p", guard=OPEN, limits=LIMITS, validators=first.validators
        )
    assert again.not_modified and again.body == b""
    assert again.validators == first.validators


async def test_credentials_do_not_follow_a_redirect_to_another_origin(web: FakeWeb) -> None:
    async with FakeWeb() as other:
        other.set_page("/landing", "<p>hi</p>")
        web.redirect("/same", "/final")
        web.set_page("/final", "<p>ok</p>")
        web.redirect("/away", f"{other.url}/landing")
        secret = {"Authorization": "Bearer s3cret-value", "Cookie": "sid=1"}
        async with make_session(allow_private=True, limits=LIMITS) as session:
            await request(session, "GET", f"{web.url}/same", allow_private=True, headers=secret)
            await request(session, "GET", f"{web.url}/away", allow_private=True, headers=secret)
        assert web.hits("/final")[-1].headers["authorization"] == "Bearer s3cret-value"
        landed = other.hits("/landing")[-1].headers
        assert "authorization" not in landed and "cookie" not in landed


async def _failure(web: FakeWeb, path: str) -> tuple[str, float]:
    start = time.monotonic()
    async with make_session(allow_private=True, limits=LIMITS) as session:
        with pytest.raises(SourceError) as caught:
            await fetch(session, f"{web.url}{path}", guard=OPEN, limits=LIMITS)
    return caught.value.reason, time.monotonic() - start


async def test_slow_loris_stops_at_the_total_timeout(web: FakeWeb) -> None:
    web.slow("/drip", interval=0.05)  # never idle long enough for the read timeout
    reason, took = await _failure(web, "/drip")
    assert reason == "timeout" and took < 3


async def test_bodies_are_capped_while_streaming_and_bombs_stop_at_the_cap(web: FakeWeb) -> None:
    web.huge("/huge", 5_000_000)
    web.gzip_bomb("/bomb", decoded_size=64 * 2**20)
    assert (await _failure(web, "/huge"))[0] == "too-large"
    reason, took = await _failure(web, "/bomb")
    assert reason == "too-large" and took < 3


async def test_redirect_chains_are_capped(web: FakeWeb) -> None:
    for n in range(6):
        web.redirect(f"/r{n}", f"/r{n + 1}")
    assert (await _failure(web, "/r0"))[0] == "redirects"
    web.redirect("/r2", "/done")
    web.set_page("/done", "<p>ok</p>")
    async with make_session(allow_private=True, limits=LIMITS) as session:
        got = await fetch(session, f"{web.url}/r0", guard=OPEN, limits=LIMITS)
    assert got.status == 200 and got.url.endswith("/done")


async def test_guarded_session_never_sends_a_byte_to_a_forbidden_address(web: FakeWeb) -> None:
    web.set_page("/p", "<p>x</p>")
    guard = Guard(allow_private=False)
    async with make_session(allow_private=False, limits=LIMITS) as session:
        with pytest.raises(SourceError) as caught:
            await fetch(session, f"http://localhost:{web.port}/p", guard=guard, limits=LIMITS)
        assert caught.value.reason == "unsafe-url"
        with pytest.raises(SourceError) as caught:
            await fetch(session, f"{web.url}/p", guard=guard, limits=LIMITS)
        assert caught.value.reason == "unsafe-url"
    await asyncio.sleep(0)
    assert web.count("/p") == 0


NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("Mon, 05 Jan 2026 09:01:30 GMT", 90.0),
        ("Mon, 05 Jan 2026 08:00:00 GMT", 0.0),  # in the past: now
        ("-3", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_one_status_mapping_for_checks_and_deliveries() -> None:
    assert status_error(200, {}, site="x") is None and status_error(304, {}, site="x") is None
    limited = status_error(503, {"Retry-After": "30"}, site="x")
    assert isinstance(limited, RateLimited) and limited.retry_after == 30
    assert type(status_error(503, {}, site="x")) is SourceError
    assert isinstance(status_error(403, {}, site="x"), AccessDenied)
    gone = status_error(404, {}, site="x", wording={404: ("gone", FailureReason.NOT_FOUND)})
    assert gone is not None and gone.reason == "not-found"
    assert delivery_error(204, {}, what="hook") is None
    for status in (408, 429, 500, 503):
        error = delivery_error(status, {"Retry-After": "7"}, what="hook")
        assert type(error) is DeliveryError and error.retry_after == 7
    for status in (400, 401, 403, 404, 410, 422):
        assert isinstance(delivery_error(status, {}, what="hook"), ChannelGone)


def test_urls_in_messages_show_the_host_only() -> None:
    assert redact_url("https://hooks.example/T0/B0/secret?x=1") == "https://hooks.example/…"
    assert redact_url("https://hooks.example") == "https://hooks.example/"
    with pytest.raises(UnsafeURL) as caught:
        check_url("http://10.0.0.1/hooks/T0/B0/secret", allow_private=False)
    assert "secret" not in str(caught.value) and "10.0.0.1" in str(caught.value)


def test_a_registered_webhook_url_is_redacted_from_every_log_line() -> None:
    url = "https://relay.example.org/x/y/s3cr3t-path-value?token=abcdef123456"
    register_secret_url(url)
    line = Redactor()(f"posting to {url} failed; path was /x/y/s3cr3t-path-value")
    assert "s3cr3t-path-value" not in line and "abcdef123456" not in line
    assert "relay.example.org" in line
    assert "T0AAA/B0BBB/zzz" not in Redactor()("POST http://10.1.2.3:8080/hooks/T0AAA/B0BBB/zzz")


async def test_per_request_credentials_stay_with_their_origin_and_no_cookie_is_kept(
    web: FakeWeb,
) -> None:
    async with FakeWeb() as other:
        other.set_page("/landing", "<p>hi</p>")
        web.redirect("/away", f"{other.url}/landing")
        web.set_page("/set", "<p>x</p>", headers={"Set-Cookie": "sid=1; Path=/"})
        other.set_page("/again", "<p>y</p>")
        client = HttpClient(OPEN, LIMITS)
        try:
            token = {"Authorization": "Bearer per-request-secret"}
            await client.request("GET", f"{web.url}/away", credentials=token)
            await client.request("GET", f"{web.url}/set")
            await client.request("GET", f"{other.url}/again")
        finally:
            await client.aclose()
    assert web.hits("/away")[-1].headers["authorization"] == "Bearer per-request-secret"
    assert "authorization" not in other.hits("/landing")[-1].headers
    assert "cookie" not in other.hits("/again")[-1].headers, "a cookie jar ignores ports"
