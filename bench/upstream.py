"""A local upstream for the benchmarks: N pricing-like pages, N feeds and N Hub repos.

Runs in its own process (so its CPU is not counted against the process being measured) on
127.0.0.1 and prints one line ``READY {json}`` with its URLs when it accepts connections:

* ``/p/00001`` … pricing-like HTML pages, 20–60 KB each (head with inline scripts and
  styles, a nav, a ``<main>`` region with a plan table and terms, a big footer), with a
  strong ``ETag`` and a ``Last-Modified``; ``If-None-Match`` with the current ETag gets
  ``304 Not Modified`` and no body. Bodies are built on request from the page number, so
  10,000 pages cost no memory;
* ``/f/00001.xml`` … small RSS feeds (10 entries each), same validators and 304s;
* the fake Hub (``tests/fakes/hub.py``, ``populate_bench``) on a second port, N repos
  ``bench-org/model-00000`` ….

Every page is at version 1 until ``POST /bump/<n>`` makes page n's next version (its plan
price and ETag change); ``POST /bump-all`` bumps every page at once. The plan table is in
``<section id="pricing">`` (what ``select = "#pricing"`` watches). ``GET /stats`` answers
request counts by status.

Usage::

    python bench/upstream.py --pages 2000 --feeds 0 --hub 0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import sys
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.hub import FakeHub, populate_bench  # noqa: E402

_MODIFIED = format_datetime(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), usegmt=True)

_SCRIPT = (
    "<script>(function(){var w=window,d=document;w.dataLayer=w.dataLayer||[];"
    "function g(){dataLayer.push(arguments)}g('js',new Date());g('config','G-BENCH{n}');"
    "d.querySelectorAll('[data-toggle]').forEach(function(e){{e.addEventListener('click',"
    "function(){{e.classList.toggle('open')}})}});}})();</script>\n"
)
_STYLE = ".plan-{i}{{display:flex;margin:{i}px;padding:4px 8px;border:1px solid #{c:06x}}}\n"
_NAV = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(40))
_FOOT = "".join(
    f'<li><a href="/legal/{i}">Legal notice {i}</a> · <a href="/help/{i}">Help {i}</a></li>'
    for i in range(80)
)


def page_body(n: int, version: int) -> bytes:
    """Page ``n`` at ``version``: deterministic, 20–60 KB, most of it outside ``<main>``."""
    rng = random.Random(n)
    blocks = rng.randint(8, 75)  # scripts and styles: what makes the size vary
    head = "".join(_SCRIPT.replace("{n}", str(n + i)) for i in range(blocks))
    styles = "".join(_STYLE.format(i=i, c=rng.randrange(1 << 24)) for i in range(blocks * 4))
    price = 20 + (n % 7) + (version - 1) * 5
    plans = "".join(
        f"<tr><td>Plan {p}</td><td>${price * (p + 1)}/month</td>"
        f"<td>{(p + 1) * 1000} requests per day, fair use applies</td></tr>"
        for p in range(6)
    )
    terms = "".join(
        f"<p>Clause {c}: usage of the service {n} is subject to section {c} of the terms; "
        f"limits may change with 30 days notice.</p>"
        for c in range(12)
    )
    html = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Pricing {n:05d}"
        f"</title><style>{styles}</style>{head}</head><body>"
        f'<header><nav><ul class="nav">{_NAV}</ul></nav></header>'
        f"<main><h1>Pricing for product {n:05d}</h1>"
        f'<section id="pricing"><h2>Plans</h2><table>{plans}</table></section>{terms}</main>'
        f'<footer><ul class="footer">{_FOOT}</ul><p>© 2026 Bench Inc.</p></footer>'
        f"<script>window.__STATE__={json.dumps({'page': n, 'v': version})}</script>"
        f"</body></html>"
    )
    return html.encode()


def feed_body(n: int, version: int) -> bytes:
    items = "".join(
        f"<item><title>Policy update {n}-{i}</title><link>http://example.com/{n}/{i}</link>"
        f"<guid>bench-{n}-{i}</guid><pubDate>{_MODIFIED}</pubDate>"
        f"<description>Change {i} to the usage policy of product {n}.</description></item>"
        for i in range(version - 1, version + 9)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Policy news {n}</title><link>http://example.com/{n}</link>"
        f"<description>bench</description>{items}</channel></rss>"
    ).encode()


class Upstream:
    def __init__(self, pages: int, feeds: int) -> None:
        self.pages = pages
        self.feeds = feeds
        self.versions: dict[int, int] = {}
        self.stats: Counter[str] = Counter()

    def etag(self, kind: str, n: int) -> str:
        digest = hashlib.sha1(f"{kind}{n}v{self.versions.get(n, 1)}".encode()).hexdigest()
        return f'"{digest[:16]}"'

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/p/{n}", self.page)
        app.router.add_get("/f/{n}.xml", self.feed)
        app.router.add_post("/bump-all", self.bump_all)
        app.router.add_post("/bump/{n}", self.bump)
        app.router.add_get("/stats", self.stats_view)
        return app

    def _answer(self, request: web.Request, kind: str, n: int, limit: int) -> web.Response:
        if not 0 <= n < limit:
            self.stats["404"] += 1
            raise web.HTTPNotFound()
        tag = self.etag(kind, n)
        headers = {"ETag": tag, "Last-Modified": _MODIFIED, "Cache-Control": "no-cache"}
        if request.headers.get("If-None-Match") == tag:
            self.stats["304"] += 1
            return web.Response(status=304, headers=headers)
        self.stats["200"] += 1
        version = self.versions.get(n, 1)
        if kind == "p":
            body, ctype = page_body(n, version), "text/html; charset=utf-8"
        else:
            body, ctype = feed_body(n, version), "application/rss+xml; charset=utf-8"
        return web.Response(body=body, headers={**headers, "Content-Type": ctype})

    async def page(self, request: web.Request) -> web.Response:
        return self._answer(request, "p", int(request.match_info["n"]), self.pages)

    async def feed(self, request: web.Request) -> web.Response:
        return self._answer(request, "f", int(request.match_info["n"]), self.feeds)

    async def bump(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        self.versions[n] = self.versions.get(n, 1) + 1
        return web.json_response({"page": n, "version": self.versions[n]})

    async def bump_all(self, request: web.Request) -> web.Response:
        """Every page's next version at once (a price rise across the whole catalogue)."""
        for n in range(self.pages):
            self.versions[n] = self.versions.get(n, 1) + 1
        return web.json_response({"pages": self.pages})

    async def stats_view(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.stats))


async def serve(pages: int, feeds: int, hub_repos: int, port: int) -> None:
    upstream = Upstream(pages, feeds)
    runner = web.AppRunner(upstream.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = runner.addresses[0][1]
    info: dict[str, object] = {"url": f"http://127.0.0.1:{bound}", "pages": pages, "feeds": feeds}
    if hub_repos:
        hub = FakeHub()
        await hub.start()
        populate_bench(hub, hub_repos)
        info["hub"] = hub.url
    print("READY " + json.dumps(info), flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=0)
    parser.add_argument("--hub", type=int, default=0, help="Hub repos (fake Hub)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--show", type=int, help="print page N and exit")
    opts = parser.parse_args()
    if opts.show is not None:
        sys.stdout.write(page_body(opts.show, 1).decode())
        return
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(opts.pages, opts.feeds, opts.hub, opts.port))


if __name__ == "__main__":
    main()
