"""Evidence pages over HTTP, as a reader (and a prober) meets them: the link in an alert opens
the whole diff and both versions; anything else is a 404 with nothing in it."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.config import load_settings, unworkable
from bot.evidence.links import Signer
from bot.evidence.site import EvidenceSite
from bot.runtime.ops_http import Metrics, OpsServer
from tests.conftest import Bot, Clock, make_settings
from tests.evidence_harness import (
    PRICING,
    PUBLIC,
    SECRET,
    feed_alert,
    licence_change,
    pricing_change,
    world,
)
from tests.fakes.web import FakeWeb

SECURITY = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def assert_private_headers(headers: object) -> None:
    for name, value in SECURITY.items():
        assert headers[name] == value  # type: ignore[index]
    csp = headers["Content-Security-Policy"]  # type: ignore[index]
    assert "default-src 'none'" in csp and "script-src" not in csp


async def test_the_alert_links_to_a_page_with_the_whole_diff_and_both_versions(
    tmp_path: Path, clock: Clock
) -> None:
    async with world(tmp_path, clock) as w:
        path = await pricing_change(w)
        resp = await w.client.get(path)
        html = await resp.text()
        assert resp.status == 200
        assert_private_headers(resp.headers)
        assert "Side by side" in html and "Inline" in html
        # Headed by the page's own title, with the watched URL beside it.
        assert re.search(r"<h1>.*— Pricing</h1>", html, re.S)
        assert f"<code>page:{w.web.url}/pricing</code>" in html
        assert "<del>$40</del>" in html and "<ins>$55</ins>" in html  # word-level
        assert "Team: $40 per seat per month" in html  # the version before, in full
        assert "Team: $55 per seat per month" in html  # and after
        assert "Enterprise: contact sales." in html
        # Upstream text is shown, never run.
        assert "&lt;script&gt;alert(" in html and "<script" not in html
        # From the change to the target's timeline, with the same scope.
        target = re.search(r'href="(/evidence/t/[^"]+)"', html)
        assert target is not None
        timeline = await w.client.get(target.group(1))
        assert timeline.status == 200
        assert "Timeline" in await timeline.text()
        assert_private_headers(timeline.headers)


async def test_licence_page_shows_the_licence_text_and_what_was_identified(
    tmp_path: Path, clock: Clock
) -> None:
    async with world(tmp_path, clock) as w:
        path = await licence_change(w)
        html = await (await w.client.get(path)).text()
        # The card's licence before, the licence file it links to after, both identified.
        assert "Hugging Face Optimized Inference License 1.0" in html
        assert "apache-2.0" in html.lower() and "hfoil" in html.lower()
        assert "What was identified" in html


async def test_feed_alert_links_to_its_entry(tmp_path: Path, clock: Clock) -> None:
    async with world(tmp_path, clock) as w:
        path = await feed_alert(w)
        resp = await w.client.get(path)
        html = await resp.text()
        assert resp.status == 200
        assert "New &lt;b&gt;pricing&lt;/b&gt; terms" in html or "New pricing terms" in html
        assert "<b>pricing</b>" not in html


async def test_anything_but_the_minted_link_is_not_found(tmp_path: Path, clock: Clock) -> None:
    async with world(tmp_path, clock) as w:
        path = await pricing_change(w)
        kind, change_id, tag, expires, sig = path.split("/")[2:]
        assert (await w.client.get(path)).status == 200
        flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
        probes = [
            f"/evidence/{kind}/{change_id}/{tag}/{expires}/{flipped}",  # tampered signature
            f"/evidence/{kind}/{int(change_id) + 1}/{tag}/{expires}/{sig}",  # another change
            f"/evidence/{kind}/{change_id}/{tag}/{int(expires) + 86400}/{sig}",  # longer life
            f"/evidence/t/{change_id}/{tag}/{expires}/{sig}",  # same id, another kind
            "/evidence/",  # no listing
            "/evidence/c/",
        ]
        for probe in probes:
            resp = await w.client.get(probe)
            assert resp.status == 404, probe
            assert "Not found" in await resp.text()
            assert_private_headers(resp.headers)


async def test_links_expire(tmp_path: Path, clock: Clock) -> None:
    async with world(tmp_path, clock) as w:
        path = await pricing_change(w)
        clock.advance(days=89)
        assert (await w.client.get(path)).status == 200
        clock.advance(days=2)
        assert (await w.client.get(path)).status == 404


async def test_rotating_the_secret_revokes_every_link(tmp_path: Path, clock: Clock) -> None:
    async with world(tmp_path, clock) as w:
        path = await pricing_change(w)
        rotated = EvidenceSite(
            w.bot.store, w.bot.service.sources, Signer("another-secret", PUBLIC), clock=clock
        )
        client = TestClient(
            TestServer(OpsServer(w.bot.store, Metrics(w.bot.store), 60.0, evidence=rotated).app())
        )
        await client.start_server()
        try:
            assert (await client.get(path)).status == 404
        finally:
            await client.close()


async def test_a_channel_that_unwatched_loses_its_links(tmp_path: Path, clock: Clock) -> None:
    async with world(tmp_path, clock) as w:
        path = await pricing_change(w)
        await w.bot.run(f"unwatch page:{w.web.url}/pricing")
        assert (await w.client.get(path)).status == 404


async def test_a_link_for_a_channel_that_does_not_watch_opens_nothing(
    tmp_path: Path, clock: Clock
) -> None:
    async with world(tmp_path, clock) as w:
        path = await pricing_change(w)
        change_id = int(path.split("/")[3])
        other = Signer(SECRET, PUBLIC).path("c", change_id, "discord:123", clock())
        assert (await w.client.get(other)).status == 404


def test_public_url_without_a_secret_is_one_clear_config_error() -> None:
    settings = load_settings(public_url="https://bot.example")
    problem = unworkable(settings)
    assert problem is not None and "POLICYBOT_EVIDENCE_SECRET" in problem
    ok = load_settings(public_url="https://bot.example", evidence_secret="x" * 32)
    assert unworkable(ok) is None


async def test_without_a_public_url_alerts_stay_as_today(tmp_path: Path, clock: Clock) -> None:
    async with FakeWeb() as web:
        bot = Bot(make_settings(f"sqlite:///{tmp_path / 'b.db'}"), clock)
        try:
            web.set_page("/pricing", PRICING)
            await bot.run(f"watch page:{web.url}/pricing")
            web.set_page("/pricing", PRICING.replace("$40", "$45"))
            clock.advance(hours=2)
            sent, text = await bot.cycle()
            assert sent == 1 and "/evidence/" not in text
        finally:
            await bot.close()
