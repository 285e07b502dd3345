"""A whole policybot wired to the fake Slack, for the Slack tests (real adapter, real Bolt).

Like ``tests.conftest.Bot``, but alerts go through :class:`adapters.slack.SlackAdapter` and
``slack-webhook:`` channels through :class:`adapters.slack_webhook.SlackWebhookAdapter`, both
talking HTTP to :class:`tests.fakes.slack.FakeSlack`.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.console import ConsoleAdapter
from adapters.slack import SlackAdapter
from adapters.slack_webhook import SlackWebhookAdapter
from bot.commands.invocation import Invocation
from bot.config import Settings
from bot.deliver.dispatcher import DispatchResult
from bot.service.executor import Service
from bot.sources import build_sources
from bot.store import Store
from tests.conftest import Clock, make_settings
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack

CHANNEL = "C0123ABCD"
USER = "U0USER1"


def slack_settings(db: str, hub_url: str, slack: FakeSlack, **extra: object) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": APP_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "slack_min_interval": 0,
    }
    values.update(extra)
    return make_settings(db, hub_url, **values)


class SlackBot:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.out = io.StringIO()
        self.store = Store.open(settings.database_url)
        self.slack = SlackAdapter(settings)
        self.service = Service(
            settings,
            self.store,
            build_sources(settings),
            {
                "console": ConsoleAdapter(self.out),
                "slack": self.slack,
                "slack-webhook": SlackWebhookAdapter(settings),
            },
            clock,
            owner="test",
        )
        self._listening: asyncio.Task[None] | None = None

    async def listen(self) -> None:
        """Start receiving commands (Socket Mode or HTTP, by settings) and wait until ready."""
        self._listening = asyncio.create_task(self.slack.listen(self.service))
        ready = asyncio.create_task(self.slack.ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._listening}, timeout=10, return_when=asyncio.FIRST_COMPLETED
        )
        if self._listening in done:
            ready.cancel()
            self._listening.result()  # raises what stopped it
        if ready not in done:
            raise TimeoutError("the Slack listener did not get ready")

    async def run(self, text: str, channel: str = CHANNEL) -> str:
        """A command from the CLI side (``--to`` allowed), e.g. to set up watches."""
        inv = Invocation(channel=f"slack:{channel}", actor="test", allow_to=True)
        return (await self.service.run_text(text, inv)).text

    async def cycle(self) -> DispatchResult:
        await self.service.checker.check_due()
        return await self.service.dispatcher.flush()

    def watched(self, channel: str = CHANNEL) -> list[str]:
        return [t.ref for _s, t in self.store.list_watches(f"slack:{channel}")]

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            await asyncio.gather(self._listening, return_exceptions=True)
        for adapter in self.service.dispatcher.adapters.values():
            close = getattr(adapter, "aclose", None)
            if close is not None:
                await close()
        await self.service.aclose()


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds: for work that continues after an ack."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)
