"""A local webhook endpoint for ``webhook:<url>`` channels, shared by the crash and fault tests.

It records every POST it gets (the JSON body), and can be told to hang (a process killed while
posting) or to answer a script of failures before it accepts (a chat API down for a while).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web


class Receiver:
    def __init__(self, *, jitter: float = 0.0) -> None:
        self.bodies: list[dict[str, Any]] = []  # every POST, accepted or not
        self.accepted: list[dict[str, Any]] = []  # the ones answered 200
        self.script: list[tuple[int, dict[str, str]]] = []  # failures to answer first
        self.hang = False
        self.got = asyncio.Event()
        self.jitter = jitter  # widen the post→acknowledge window (crash tests)
        self.url = ""

    @property
    def nonces(self) -> list[str]:
        return [str(b["nonce"]) for b in self.accepted]

    @property
    def first_lines(self) -> list[str]:
        return [str(b["alert"]["lines"][0]) for b in self.accepted]

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.bodies.append(body)
        self.got.set()
        if self.hang:
            await asyncio.sleep(3600)
        if self.script:
            status, headers = self.script.pop(0)
            return web.json_response({"ok": False}, status=status, headers=headers)
        if self.jitter:
            await asyncio.sleep(random.uniform(0, self.jitter))
        self.accepted.append(body)
        return web.json_response({"ok": True})


@asynccontextmanager
async def serve_receiver(receiver: Receiver | None = None) -> AsyncIterator[Receiver]:
    rec = receiver or Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    rec.url = f"http://{host}:{port}/hook"
    try:
        yield rec
    finally:
        await runner.cleanup()
