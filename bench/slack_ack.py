"""How fast are ``/policy`` slash commands acknowledged while a big check cycle runs?

Slack shows the user an error when the ack takes more than 3 s. policybot answers commands on
the same event loop that runs the checks, so this measures the ack latency of slash commands
sent over Socket Mode while one check cycle over N Hub targets runs in the same process:

* the fake Hub (``populate_bench``) and the fake Slack each run on their own thread and loop,
  like remote servers; the bot (real checker, store on SQLite, real slack_bolt Socket Mode
  handler, real huggingface_hub client in worker threads) runs on the main loop;
* latency is measured by the fake Slack: from writing the envelope to its WebSocket to
  receiving the ack with that envelope id;
* a sender thread sends the commands at a steady pace, so the bot's busy loop cannot slow
  down the sending; the mix is ``help``, ``list``, ``history <target>`` and ``watch <target>``
  (which acks "Working on it…" first and answers through response_url);
* the same commands are sent once with the bot idle, for comparison.

With ``--pages URL`` the targets are N pricing pages of ``bench/upstream.py`` at URL
(``select = "main"``, 10% of them get a new version before the measured cycle) instead of
Hub repos; ``--per-host`` sets ``POLICYBOT_HTTP_PER_HOST`` (all pages are on one host).

Usage::

    python bench/slack_ack.py --targets 1000 --commands 200
    python bench/upstream.py --pages 2000 &   # prints READY {"url": …}
    python bench/slack_ack.py --targets 2000 --pages http://127.0.0.1:PORT --per-host 20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.slack import SlackAdapter  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.service.executor import Service  # noqa: E402
from bot.sources import build_sources  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.fakes.hub import FakeHub, populate_bench  # noqa: E402
from tests.fakes.hub import serve_in_thread as hub_in_thread  # noqa: E402
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack  # noqa: E402
from tests.fakes.slack import serve_in_thread as slack_in_thread  # noqa: E402

ALERT_CHANNEL = "slack:CBENCHALERTS"
COMMAND_CHANNEL = "CBENCHCMD"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Phase:
    label: str
    latencies: list[float]
    during_cycle: int

    def row(self) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        p95 = ms[int(0.95 * (len(ms) - 1))]
        p99 = ms[int(0.99 * (len(ms) - 1))]
        return (
            f"{self.label:<22} {len(ms):>5} {self.during_cycle:>8} "
            f"{statistics.median(ms):>9.1f} {p95:>9.1f} {p99:>9.1f} {max(ms):>9.1f}"
        )


PAGES: str | None = None  # the upstream's URL when the targets are pages (--pages)


def target_ref(i: int) -> str:
    return f"page:{PAGES}/p/{i:05d}" if PAGES else f"hf:bench-org/model-{i:05d}"


def command_text(i: int, targets: int) -> str:
    target = target_ref((i * 37) % targets)
    return ("help", "list", f"history {target}", f"watch {target}")[i % 4]


def send_commands(
    slack: FakeSlack,
    loop: asyncio.AbstractEventLoop,
    count: int,
    spacing: float,
    targets: int,
    cycle_running: threading.Event,
    cycle_done: threading.Event | None = None,
) -> tuple[list[str], list[bool]]:
    """From a plain thread: send ``count`` slash commands ``spacing`` s apart (or, given
    ``cycle_done``, keep sending until the cycle is over); return their envelope ids and,
    for each, whether it was sent while the check cycle was running."""
    ids: list[str] = []
    during: list[bool] = []
    i = 0
    while (i < count) if cycle_done is None else not cycle_done.is_set():
        coro = slack.send_slash(command_text(i, targets), channel=COMMAND_CHANNEL)
        ids.append(asyncio.run_coroutine_threadsafe(coro, loop).result(30))
        during.append(cycle_running.is_set())
        time.sleep(spacing)
        i += 1
    return ids, during


def collect(slack: FakeSlack, loop: asyncio.AbstractEventLoop, ids: list[str]) -> list[float]:
    return [
        asyncio.run_coroutine_threadsafe(slack.wait_ack(i, timeout=60), loop).result(70).latency
        for i in ids
    ]


async def run(opts: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        hub_in_thread(FakeHub()) as hub,
        slack_in_thread() as (slack, slack_loop),
    ):
        if not PAGES:
            populate_bench(hub, opts.targets)
        settings = load_settings(
            allow_private_urls=True,
            http_per_host=opts.per_host,
            database_url=f"sqlite:///{tmp}/bench.db",
            hf_endpoint=hub.url,
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
        for i in range(opts.targets):
            target, _ = store.ensure_target(
                service.parse_ref(target_ref(i)),
                clock(),
                {"select": "main"} if PAGES else None,
            )
            store.subscribe(target.id, ALERT_CHANNEL, clock(), created_by="bench")
        start = time.perf_counter()
        first = await service.check_due()
        baseline_s = time.perf_counter() - start
        print(f"baseline cycle: {first.summary()} in {baseline_s:.1f} s", file=sys.stderr)

        listening = asyncio.create_task(adapter.listen(service))
        await asyncio.wait_for(adapter.ready.wait(), 20)
        cycle_running = threading.Event()

        # Idle: the same commands with nothing else running.
        ids, _ = await asyncio.to_thread(
            send_commands,
            slack,
            slack_loop,
            opts.commands,
            opts.spacing,
            opts.targets,
            cycle_running,
        )
        idle = Phase("idle", await asyncio.to_thread(collect, slack, slack_loop, ids), 0)
        cycle_done = threading.Event() if opts.during_only else None

        # Under load: 10% of the repos change licence, every target is due, one cycle runs.
        for i in range(0, opts.targets, 10):
            if PAGES:
                bump = urllib.request.Request(f"{PAGES}/bump/{i}", method="POST")
                urllib.request.urlopen(bump, timeout=10).close()
            else:
                hub.set_repo(f"bench-org/model-{i:05d}", license="agpl-3.0")
        clock.now += timedelta(seconds=settings.check_interval + 1)
        spacing = opts.load_spacing or max(0.001, 0.8 * baseline_s / opts.commands)

        async def cycle() -> tuple[str, float]:
            cycle_running.set()
            began = time.perf_counter()
            try:
                result = await service.check_due()
            finally:
                cycle_running.clear()
                if cycle_done is not None:
                    cycle_done.set()
            return result.summary(), time.perf_counter() - began

        sender = asyncio.create_task(
            asyncio.to_thread(
                send_commands,
                slack,
                slack_loop,
                opts.commands,
                spacing,
                opts.targets,
                cycle_running,
                cycle_done,
            )
        )
        await asyncio.sleep(spacing)  # the first command goes out just before the cycle starts
        summary, cycle_s = await cycle()
        ids, during = await sender
        latencies = await asyncio.to_thread(collect, slack, slack_loop, ids)
        if opts.during_only:  # only the commands that were sent while the cycle ran
            latencies = [x for x, d in zip(latencies, during, strict=True) if d]
        loaded = Phase(f"during {opts.targets}-target cycle", latencies, sum(during))
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await service.aclose()

    print(
        f"/policy ack latency over Socket Mode, {opts.commands} commands "
        f"(help/list/history/watch), {opts.targets} {'page' if PAGES else 'Hub'} targets, "
        f"SQLite"
    )
    print(f"check cycle under load: {summary}; took {cycle_s:.1f} s")
    print(
        f"{'phase':<22} {'cmds':>5} {'in cycle':>8} {'median ms':>9} {'p95 ms':>9} {'p99 ms':>9} "
        f"{'max ms':>9}"
    )
    print(idle.row())
    print(loaded.row())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument(
        "--spacing", type=float, default=0.01, help="seconds between commands (idle)"
    )
    parser.add_argument(
        "--load-spacing",
        type=float,
        help="seconds between commands during the cycle (default: spread over the baseline "
        "cycle's duration)",
    )
    parser.add_argument(
        "--during-only",
        action="store_true",
        help="keep sending until the cycle ends; count only commands sent during it",
    )
    parser.add_argument("--pages", help="bench/upstream.py URL: page targets instead of Hub")
    parser.add_argument("--per-host", type=int, default=4, help="POLICYBOT_HTTP_PER_HOST")
    opts = parser.parse_args()
    global PAGES
    PAGES = opts.pages
    asyncio.run(run(opts))


if __name__ == "__main__":
    main()
