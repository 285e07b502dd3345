"""Does a check cycle over hostile targets stall the event loop that acks Slack commands?

One event loop serves checks, deliveries, slash-command acks (Slack's 3 s deadline) and
``/healthz``. This runs the real bot parts in one process (Service: Checker + Dispatcher, the
real slack_bolt Socket Mode adapter against the fake Slack, SQLite) and one measured check
cycle over ~200 normal pricing pages mixed with hostile targets, all served by a local
upstream in a separate process (so its CPU is not counted here):

* ``regex``: a page holding a line of 28 ``a`` and a ``!``, watched with ``--ignore '(a+)+$'``
  (37 s on Python's backtracking ``re``, doubling per extra character);
* ``lines``: a 16,000-line page of short lines from a small vocabulary, one line added
  (difflib's worst case);
* ``feed``: a 4.8 MB RSS feed of 100,000 entries, one entry added;
* ``drip``: an upstream that sends one byte per second (held until the total timeout).

While the cycle runs, a ticker task measures the loop's lag (how late ``sleep(0.01)``
wakes up) and a plain thread sends ``/policy`` commands (``help``, ``list``, ``history``)
through the fake Slack, which measures each ack's latency. Every normal page has a new
version, so each is fetched, parsed and diffed. Targets: loop lag < 100 ms, ack p99 < 200 ms,
every normal target checked.

Usage::

    python bench/loop_lag.py                  # before/after: run it in each checkout
    python bench/loop_lag.py --normal 200 --commands 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COMMAND_CHANNEL = "CBENCHCMD"
ALERTS = "slack:CBENCHALERTS"
REGEX = r"(a+)+$"


# -- the upstream (a separate process) --------------------------------------------------------


def _page(lines: list[str]) -> bytes:
    body = "".join(f"<p>{x}</p>\n" for x in lines)
    return f"<html><body><main>\n{body}</main></body></html>".encode()


def _normal(n: int, version: int) -> bytes:
    price = 20 + n % 7 + (5 if version > 1 else 0)
    rows = [f"Plan {k}: ${price + k} per seat per month, {10 * k} projects" for k in range(30)]
    return _page([f"Pricing page {n}", *rows, "Cancel any time."])


def _lines(version: int) -> bytes:
    import random

    rng = random.Random(16_000)
    lines = [f"{rng.choice(['Plan', 'Seat', 'Row'])} {rng.randrange(40)}" for _ in range(16_000)]
    if version > 1:
        lines.insert(9000, "Enterprise: $99 per seat per month")
    return _page(lines)


def _feed(version: int) -> bytes:
    start = 1 if version > 1 else 0
    items = "".join(
        f"<item><guid>{i}</guid><title>{i}</title></item>"
        for i in range(100_000 + start - 1, start - 1, -1)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>{items}'
        "</channel></rss>"
    ).encode()


def serve(port: int) -> None:
    from aiohttp import web

    state = {"version": 1}
    cache: dict[tuple[str, int], bytes] = {}

    def body(key: str, make: object) -> bytes:
        v = state["version"]
        if (key, v) not in cache:
            cache[(key, v)] = make(v)  # type: ignore[operator]
        return cache[(key, v)]

    async def normal(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(body=_normal(n, state["version"]), content_type="text/html")

    async def regex(request: web.Request) -> web.Response:
        lines = ["Pricing", "a" * 28 + "!", f"Pro: ${20 + state['version']} per month"]
        return web.Response(body=_page(lines), content_type="text/html")

    async def lines(request: web.Request) -> web.Response:
        return web.Response(body=body("lines", _lines), content_type="text/html")

    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=body("feed", _feed), content_type="application/rss+xml")

    async def drip(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        try:
            for _ in range(600):
                await resp.write(b"<")
                await asyncio.sleep(1)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp

    async def bump(request: web.Request) -> web.Response:
        state["version"] += 1
        for key, make in (("lines", _lines), ("feed", _feed)):  # built before the cycle
            body(key, make)
        return web.Response(text=str(state["version"]))

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/n/{n}", normal)
        app.router.add_get("/regex", regex)
        app.router.add_get("/lines", lines)
        app.router.add_get("/feed.xml", feed)
        app.router.add_get("/drip", drip)
        app.router.add_post("/bump", bump)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        print("READY " + json.dumps({"port": sock.getsockname()[1]}), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the bot ---------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def send_commands(
    slack: object, loop: asyncio.AbstractEventLoop, refs: list[str], spacing: float,
    done: threading.Event,
) -> list[str]:  # fmt: skip
    """From a plain thread: slash commands ``spacing`` s apart until ``done``."""
    ids: list[str] = []
    i = 0
    while not done.is_set():
        text = ("help", "list", f"history {refs[i % len(refs)]}")[i % 3]
        coro = slack.send_slash(text, channel=COMMAND_CHANNEL)  # type: ignore[attr-defined]
        ids.append(asyncio.run_coroutine_threadsafe(coro, loop).result(60))
        time.sleep(spacing)
        i += 1
    return ids


async def ticker(stop: asyncio.Event, lags: list[float], period: float = 0.01) -> None:
    """How late the loop wakes a task that asked to sleep ``period`` seconds."""
    while not stop.is_set():
        began = time.perf_counter()
        await asyncio.sleep(period)
        lags.append(time.perf_counter() - began - period)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else 0.0


async def run(opts: argparse.Namespace, upstream: str) -> None:
    from adapters.slack import SlackAdapter
    from bot.config import load_settings
    from bot.service.executor import Service
    from bot.sources import build_sources
    from bot.store import Store
    from tests.fakes.slack import APP_TOKEN, BOT_TOKEN
    from tests.fakes.slack import serve_in_thread as slack_in_thread

    with tempfile.TemporaryDirectory() as tmp, slack_in_thread() as (slack, slack_loop):
        settings = load_settings(
            allow_private_urls=True,
            http_per_host=opts.per_host,
            http_total_timeout=opts.total_timeout,
            database_url=f"sqlite:///{tmp}/bench.db",
            slack_bot_token=BOT_TOKEN,
            slack_app_token=APP_TOKEN,
            slack_api_url=slack.api_url,
            check_jitter=0,
            log_level="WARNING",
        )
        clock = Clock()
        store = Store.open(settings.database_url)
        adapter = SlackAdapter(settings)
        service = Service(
            settings, store, build_sources(settings), {"slack": adapter}, clock, owner="bench"
        )
        normal = [f"page:{upstream}/n/{i}" for i in range(opts.normal)]
        hostile = {
            "regex": (f"page:{upstream}/regex", {"ignore": [REGEX]}),
            "lines": (f"page:{upstream}/lines", None),
            "feed": (f"feed:{upstream}/feed.xml", None),
            "drip": (f"page:{upstream}/drip", None),
        }
        for ref, options in [*((r, None) for r in normal), *hostile.values()]:
            target, _ = store.ensure_target(service.parse_ref(ref), clock(), options)
            store.subscribe(target.id, ALERTS, clock(), created_by="bench")

        began = time.perf_counter()
        first = await service.check_due()
        print(f"baseline cycle: {first.summary()} in {time.perf_counter() - began:.1f} s")

        listening = asyncio.create_task(adapter.listen(service))
        await asyncio.wait_for(adapter.ready.wait(), 20)
        urllib.request.urlopen(  # every page and the feed get a new version
            urllib.request.Request(f"{upstream}/bump", method="POST"), timeout=120
        ).close()
        clock.now += timedelta(seconds=settings.check_interval + 1)

        stop = asyncio.Event()
        lags: list[float] = []
        done = threading.Event()
        ticking = asyncio.create_task(ticker(stop, lags))
        sender = asyncio.create_task(
            asyncio.to_thread(send_commands, slack, slack_loop, normal, opts.spacing, done)
        )
        await asyncio.sleep(0.05)
        began = time.perf_counter()
        result = await service.check_due()
        cycle_s = time.perf_counter() - began
        done.set()
        stop.set()
        ids = await sender
        await ticking
        acks = [
            asyncio.run_coroutine_threadsafe(slack.wait_ack(i, timeout=120), slack_loop)
            .result(130)
            .latency
            for i in ids
        ]
        sent = await service.flush_deliveries()
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await service.aclose()

    by_ref = {o.ref: o for o in result.outcomes}
    normal_out = [by_ref[r] for r in normal if r in by_ref]
    ok = [o for o in normal_out if o.status in ("changed", "unchanged", "not-modified")]
    print(f"measured cycle: {result.summary()} in {cycle_s:.1f} s; {sent.sent} alerts delivered")
    for name, (ref, _opts) in hostile.items():
        o = by_ref.get(ref)
        if o is None:
            print(f"  {name:<6} not checked")
            continue
        what = "; ".join(c.summary for c in o.changes) or o.message or ""
        print(f"  {name:<6} {o.status:<10} {o.seconds:6.1f} s  {what[:110]}")
    secs = [o.seconds for o in normal_out]
    print(
        f"  normal pages: {len(ok)}/{opts.normal} checked ok; per check median "
        f"{statistics.median(secs) * 1000:.0f} ms, max {max(secs) * 1000:.0f} ms"
    )
    ms = [x * 1000 for x in lags]
    print(
        f"event loop lag over {len(ms)} ticks: median {statistics.median(ms):.1f} ms, "
        f"p99 {pct(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
    )
    ack = [x * 1000 for x in acks]
    print(
        f"slash-command acks during the cycle: {len(ack)}; median {statistics.median(ack):.1f}"
        f" ms, p99 {pct(ack, 0.99):.1f} ms, max {max(ack):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--normal", type=int, default=200, help="normal pricing pages")
    parser.add_argument("--spacing", type=float, default=0.05, help="seconds between commands")
    parser.add_argument("--per-host", type=int, default=20, help="POLICYBOT_HTTP_PER_HOST")
    parser.add_argument(
        "--total-timeout", type=float, default=10.0, help="POLICYBOT_HTTP_TOTAL_TIMEOUT (drip)"
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the upstream process
    opts = parser.parse_args()
    if opts.serve is not None:
        serve(opts.serve)
        return
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        port = json.loads(line.removeprefix("READY "))["port"]
        asyncio.run(run(opts, f"http://127.0.0.1:{port}"))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
