"""How fast policybot answers Discord interactions, and how fast it posts alerts.

Against the fake Discord on 127.0.0.1 with the real discord.py, so the numbers are policybot +
discord.py + one local HTTP round trip: the floor, not what a user on the internet sees. The
question they answer is whether our side leaves room inside Discord's 3-second window.

    /work/main/.venv/bin/python -m bench.discord_interactions [--n 200]

Measured 2026-11-26 on the dev container (2 cores), n=200 each (runs vary by about 2x):
    /policy help   (answer at once)        p50 0.5 ms   p95 0.7 ms   max 2.4 ms
    /policy list   (10 watches, store)     p50 1.1 ms   p95 3.0 ms   max 5.1 ms
    /policy watch  (time to the defer)     p50 3.4 ms   p95 9.3 ms   max 21.7 ms
    /policy watch  (baseline answer)       p50 8.4 ms   p95 19.8 ms   max 171.5 ms
    alerts posted (200 channels, 1 each)   350-550 alerts/s through the outbox
(The interaction numbers end when the fake receives the callback; alert throughput is far
above what Discord allows, 50 requests/s per bot, so Discord's limits are the bound.)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.conftest import Clock
from tests.discord_harness import DiscordBot
from tests.fakes.discord import FakeDiscord
from tests.fakes.hub import FakeHub


def _summary(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"{name:38s} p50 {statistics.median(ms):.1f} ms   p95 {p95:.1f} ms   max {ms[-1]:.1f} ms"


async def _latency(fake: FakeDiscord, payload: dict[str, object]) -> float:
    start = time.perf_counter()
    await fake.interact(payload)
    return time.perf_counter() - start


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord() as fake, FakeHub() as hub:
            bot = DiscordBot(fake, f"sqlite:///{Path(tmp) / 'bench.db'}", hub.url, Clock())
            try:
                await bot.listen()
                channel = fake.add_channel()
                for i in range(10):
                    hub.set_repo(f"acme/m{i}", license="mit")
                    await bot.run(f"watch hf:acme/m{i} --to discord:{channel}")
                help_ = [
                    await _latency(fake, fake.slash("help", channel_id=channel)) for _ in range(n)
                ]
                list_ = [
                    await _latency(fake, fake.slash("list", channel_id=channel)) for _ in range(n)
                ]
                defer, answer = [], []
                for i in range(n):
                    hub.set_repo(f"acme/w{i}", license="mit")
                    payload = fake.slash("watch", channel_id=channel, target=f"hf:acme/w{i}")
                    start = time.perf_counter()
                    record = await fake.interact(payload)
                    defer.append(time.perf_counter() - start)
                    await fake.wait_for_message(record)
                    answer.append(time.perf_counter() - start)
                print(_summary("/policy help   (answer at once)", help_))
                print(_summary("/policy list   (10 watches, store)", list_))
                print(_summary("/policy watch  (time to the defer)", defer))
                print(_summary("/policy watch  (baseline answer)", answer))

                channels = [fake.add_channel() for _ in range(n)]
                hub.set_repo("acme/big", license="apache-2.0")
                for ch in channels:
                    await bot.run(f"watch hf:acme/big --to discord:{ch}")
                hub.set_repo("acme/big", license="other", license_name="hfoil-1.0")
                bot.clock.advance(hours=2)
                await bot.service.check_due()
                start = time.perf_counter()
                result = await bot.service.flush_deliveries()
                took = time.perf_counter() - start
                print(f"alerts posted ({n} channels, 1 each)   {result.sent / took:.0f} alerts/s")
            finally:
                await bot.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    asyncio.run(main(parser.parse_args().n))
