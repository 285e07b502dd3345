"""What a whole-organisation watch costs, and how soon a Hub webhook call becomes an alert.

Against the fakes on 127.0.0.1 (fake Hub page size 100, as in the tests; fake GitHub
``per_page=100``), with the real sources, store (SQLite) and console adapter:

1. ``hf:org/bench-org`` with N models + 1 dataset + 1 space: requests and wall time per check
   (baseline, unchanged, and one with 2% of the models relicensed);
2. ``github:org/bench-org`` with N repos: the same;
3. webhook → alert: ``policybot run`` with its HTTP server; a licence commit on the fake Hub,
   then a ``repo.content`` call; time from the POST to the alert on the console, n samples.

    /work/main/.venv/bin/python -m bench.org_and_push [--repos 1000] [--samples 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.runtime.runner import run_forever
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.github import FakeGitHub
from tests.fakes.hub import FakeHub

LICENCES = ["apache-2.0", "mit", "llama3.1", "cc-by-nc-4.0"]


async def _timed_check(bot: Bot) -> tuple[float, int]:
    bot.clock.advance(hours=2)
    started = time.perf_counter()
    sent, _ = await bot.cycle()
    return time.perf_counter() - started, sent


async def hub_org(repos: int, tmp: Path) -> None:
    async with FakeHub() as hub:
        for i in range(repos):
            hub.set_repo(f"bench-org/model-{i:05d}", license=LICENCES[i % 4])
        hub.set_repo("bench-org/data", repo_type="dataset", license="mit")
        hub.set_repo("bench-org/demo", repo_type="space", license="mit")
        bot = Bot(make_settings(f"sqlite:///{tmp / 'hub.db'}", hub.url), Clock())
        started = time.perf_counter()
        await bot.run("watch hf:org/bench-org")
        baseline = time.perf_counter() - started
        n0 = len(hub.requests)
        print(f"hf:org/bench-org, {repos + 2} repos: baseline {n0} requests, {baseline:.2f} s")
        seconds, _ = await _timed_check(bot)
        print(f"  unchanged check: {len(hub.requests) - n0} requests, {seconds:.2f} s")
        for i in range(0, repos, 50):
            hub.set_repo(f"bench-org/model-{i:05d}", license="cc-by-nc-4.0")
        n1 = len(hub.requests)
        seconds, sent = await _timed_check(bot)
        print(f"  2% relicensed: {len(hub.requests) - n1} requests, {seconds:.2f} s, {sent} alert")
        await bot.close()


async def github_org(repos: int, tmp: Path) -> None:
    async with FakeGitHub() as gh:
        for i in range(repos):
            gh.set_repo(f"bench-org/repo-{i:05d}")
            gh.set_licence(f"bench-org/repo-{i:05d}", "text", key="mit")
        settings = make_settings(f"sqlite:///{tmp / 'gh.db'}", github_api_url=gh.url)
        bot = Bot(settings, Clock())
        started = time.perf_counter()
        await bot.run("watch github:org/bench-org")
        baseline = time.perf_counter() - started
        n0 = len(gh.requests)
        print(f"github:org/bench-org, {repos} repos: baseline {n0} requests, {baseline:.2f} s")
        gh.set_licence("bench-org/repo-00007", "text", key="apache-2.0")
        seconds, sent = await _timed_check(bot)
        print(f"  one relicensed: {len(gh.requests) - n0} requests, {seconds:.2f} s, {sent} alert")
        await bot.close()


async def push_latency(samples: int, tmp: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    async with FakeHub() as hub:
        settings = make_settings(
            f"sqlite:///{tmp / 'push.db'}",
            hub.url,
            tick_seconds=3600,
            http_port=port,
            hf_webhook_secret="bench-secret",
        )
        bot = Bot(settings, Clock())
        hub.set_repo("acme/model", license="mit")
        await bot.run("watch hf:acme/model")
        stop = asyncio.Event()
        task = asyncio.create_task(run_forever(bot.service, settings, stop))
        await asyncio.sleep(0.5)
        url = f"http://127.0.0.1:{port}/webhooks/huggingface"
        body = json.dumps(
            {
                "event": {"action": "update", "scope": "repo.content"},
                "repo": {"type": "model", "name": "acme/model", "private": False},
                "webhook": {"id": "x", "version": 3},
            }
        ).encode()
        answer: list[float] = []
        alert: list[float] = []
        async with aiohttp.ClientSession() as http:
            for i in range(samples):
                hub.set_repo("acme/model", license=LICENCES[(i + 2) % 4])  # never the same twice
                seen = bot.out.getvalue().count("— acme/model")
                started = time.perf_counter()
                async with http.post(
                    url, data=body, headers={"X-Webhook-Secret": "bench-secret"}
                ) as resp:
                    assert resp.status == 200
                answer.append(time.perf_counter() - started)
                while bot.out.getvalue().count("— acme/model") == seen:
                    if time.perf_counter() - started > 30:
                        raise SystemExit("no alert 30 s after the webhook call")
                    await asyncio.sleep(0.002)
                alert.append(time.perf_counter() - started)
        stop.set()
        await task
        await bot.close()
    for name, values in (("webhook answered", answer), ("alert on console", alert)):
        ms = sorted(v * 1000 for v in values)
        print(
            f"{name:18s} n={len(ms)} p50 {statistics.median(ms):.0f} ms  "
            f"p95 {ms[max(0, int(len(ms) * 0.95) - 1)]:.0f} ms  max {ms[-1]:.0f} ms"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await hub_org(args.repos, Path(tmp))
        await github_org(args.repos, Path(tmp))
        await push_latency(args.samples, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
