"""A whole policybot wired to the fake Discord (and the fake Hub), for the Discord tests.

Real parts throughout: the real store, the real Hub source against the fake Hub, the real
Discord adapters running the real discord.py against :class:`tests.fakes.discord.FakeDiscord`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io

from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.console import ConsoleAdapter
from adapters.discord_bot import DiscordBotAdapter
from adapters.discord_webhook import DiscordWebhookAdapter
from bot.commands.invocation import Invocation
from bot.deliver.dispatcher import DispatchResult
from bot.service.executor import Service
from bot.sources import build_sources
from bot.store import Store
from tests.conftest import Clock, make_settings
from tests.fakes.discord import FakeDiscord, Interaction


class DiscordBot:
    def __init__(
        self, fake: FakeDiscord, db_url: str, hub_url: str, clock: Clock, **extra: object
    ) -> None:
        self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        self.fake = fake
        self.clock = clock
        self.settings = make_settings(
            db_url,
            hub_url,
            discord_bot_token=fake.token,
            discord_api_url=fake.api_url,
            **extra,
        )
        self.store = Store.open(self.settings.database_url)
        self.adapter = DiscordBotAdapter(self.settings)
        self.webhooks = DiscordWebhookAdapter(self.settings)
        self.console = io.StringIO()
        self.service = Service(
            self.settings,
            self.store,
            build_sources(self.settings),
            {
                "console": ConsoleAdapter(self.console),
                "discord": self.adapter,
                "discord-webhook": self.webhooks,
            },
            clock,
            owner="test",
        )
        self.cli = Invocation(channel="console", actor="test", allow_to=True)
        self._listener: asyncio.Task[None] | None = None

    async def listen(self) -> None:
        """Start the gateway client and wait until it has identified to the fake."""
        self._listener = asyncio.create_task(self.adapter.listen(self.service))
        waiter = asyncio.create_task(self.fake.wait_identified())
        done, _ = await asyncio.wait(
            {self._listener, waiter}, return_when=asyncio.FIRST_COMPLETED, timeout=15
        )
        if waiter not in done:
            waiter.cancel()
            if self._listener in done:
                self._listener.result()  # raise what stopped it
            raise AssertionError("the bot never identified to the fake gateway")

    async def run(self, text: str) -> str:
        return (await self.service.run_text(text, self.cli)).text

    async def cycle(self) -> DispatchResult:
        """Check what is due, then deliver."""
        await self.service.checker.check_due()
        return await self.service.dispatcher.flush()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.service.aclose()
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved


DEFERRED = 5  # interaction callback type: "thinking…", the answer follows as a message


async def discord_answer(fake: FakeDiscord, record: Interaction) -> str:
    """What the user sees: the immediate answer, or the follow-up after a defer."""
    assert record.callback is not None
    if record.callback["type"] == DEFERRED:
        return str((await fake.wait_for_message(record))["content"])
    return str(record.callback["data"]["content"])
