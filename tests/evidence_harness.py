"""A whole bot with evidence links on, its ops server over HTTP, and three real alerts (a
pricing page, a Hub licence, a feed entry) for the evidence tests and the browser test."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import Application, Request

from bot.evidence.links import Signer
from bot.evidence.site import EvidenceSite
from bot.runtime.ops_http import Metrics, OpsServer
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.hub import FakeHub
from tests.fakes.web import FakeWeb

PUBLIC = "https://evidence.example"
SECRET = "test-evidence-secret-0123456789"
LINK = re.compile(re.escape(PUBLIC) + r"(/evidence/[A-Za-z0-9/_-]+)")

PRICING = """<html><head><title>Pricing</title></head><body><main><h1>Pricing</h1>
<p>Pro: $20 per seat per month, billed yearly.</p>
<p>Team: $40 per seat per month, billed yearly.</p>
<p>Note &lt;script&gt;alert("owned")&lt;/script&gt; from the vendor.</p>
<p>Enterprise: contact sales.</p>
</main></body></html>"""

LICENCE_A = "Apache License\nVersion 2.0, January 2004\n\nYou may use this model for any purpose."
LICENCE_B = (
    "Hugging Face Optimized Inference License 1.0\n\nYou may not use this model in a "
    "commercial inference service without a separate agreement."
)


def feed(items: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><link>https://blog.example/{g}</link><guid>{g}</guid>"
        f"<description>{t} — details</description></item>"
        for t, g in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Vendor blog</title>'
        f"<link>https://blog.example/</link><description>news</description>{body}</channel></rss>"
    )


@dataclass
class World:
    bot: Bot
    web: FakeWeb
    hub: FakeHub
    client: TestClient[Request, Application]
    site: EvidenceSite

    async def alert_link(self) -> str:
        """Run a cycle; the evidence path of the one alert it printed."""
        sent, text = await self.bot.cycle()
        found: list[str] = LINK.findall(text)
        assert sent and found, f"no evidence link in the alert: {text!r}"
        return found[0]


@asynccontextmanager
async def world(tmp_path: Path, clock: Clock) -> AsyncIterator[World]:
    async with FakeWeb() as web, FakeHub() as hub:
        settings = make_settings(
            f"sqlite:///{tmp_path / 'bot.db'}",
            hub.url,
            public_url=PUBLIC,
            evidence_secret=SECRET,
        )
        bot = Bot(settings, clock)
        site = EvidenceSite(bot.store, bot.service.sources, Signer(SECRET, PUBLIC), clock=clock)
        ops = OpsServer(bot.store, Metrics(bot.store), 60.0, evidence=site)
        client = TestClient(TestServer(ops.app()))
        await client.start_server()
        try:
            yield World(bot, web, hub, client, site)
        finally:
            await client.close()
            await bot.close()


async def pricing_change(w: World) -> str:
    w.web.set_page("/pricing", PRICING)
    await w.bot.run(f"watch page:{w.web.url}/pricing")
    w.web.set_page("/pricing", PRICING.replace("$40 per seat", "$55 per seat"))
    w.bot.clock.advance(hours=2)
    return await w.alert_link()


async def licence_change(w: World) -> str:
    repo = "acme/model"
    w.hub.set_repo(repo, license="apache-2.0")
    w.hub.set_file(repo, "LICENSE", LICENCE_A)
    await w.bot.run(f"watch hf:{repo}")
    w.hub.set_repo(repo, license="other", license_name="hfoil-1.0", license_link="LICENSE")
    w.hub.set_file(repo, "LICENSE", LICENCE_B)
    w.bot.clock.advance(hours=2)
    return await w.alert_link()


async def feed_alert(w: World) -> str:
    w.web.set_page("/feed.xml", feed([("Welcome", "a1")]), content_type="application/rss+xml")
    await w.bot.run(f"watch feed:{w.web.url}/feed.xml")
    w.web.set_page(
        "/feed.xml",
        feed([("New <b>pricing</b> terms", "a2"), ("Welcome", "a1")]),
        content_type="application/rss+xml",
    )
    w.bot.clock.advance(hours=2)
    return await w.alert_link()
