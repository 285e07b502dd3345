"""``POST /webhooks/huggingface``: a Hub webhook call makes the repo it names be checked now.

Served by the ops HTTP server (:mod:`bot.runtime.ops_http`) only when
``POLICYBOT_HF_WEBHOOK_SECRET`` is set. The answer never waits for the check: the Hub gets its 200
at once and the check and the delivery run in a background task, so a slow Hub or chat platform
cannot make the Hub retry or time out. Events for one target that arrive while it is being checked
are folded into one more check after it, so a burst of commits costs two checks, not one per commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web

from bot.check.checker import CycleResult
from bot.deliver.dispatcher import DispatchResult
from bot.runtime.hub_webhook_payload import BadPayload, parse_event, secret_matches, targets_for
from bot.service.executor import Service

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Hub payloads are a few kilobytes


class HubWebhookReceiver:
    def __init__(
        self,
        service: Service,
        secret: str,
        on_cycle: Callable[[CycleResult], None] = lambda _: None,
        on_dispatch: Callable[[DispatchResult], None] = lambda _: None,
    ) -> None:
        self.service = service
        self._secret = secret
        self._on_cycle = on_cycle
        self._on_dispatch = on_dispatch
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[int] = set()
        self._again: set[int] = set()

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Webhook-Secret") or request.query.get("secret")
        if not secret_matches(given, self._secret):
            log.warning("hub webhook refused: missing or wrong secret from %s", request.remote)
            return web.json_response({"error": "invalid or missing webhook secret"}, status=401)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "payload too large"}, status=413)
        try:
            event = parse_event(await request.read())
        except BadPayload as e:
            return web.json_response({"error": f"not a Hub webhook payload: {e}"}, status=400)
        ids = self.service.stored_target_ids(targets_for(event))
        if not ids:
            return web.json_response({"ok": True, "checking": []})
        log.info(
            "hub webhook scope=%s action=%s repo=%s: checking %d target(s) now",
            event.scope,
            event.action,
            event.repo_name,
            len(ids),
        )
        self._start(ids)
        return web.json_response({"ok": True, "checking": len(ids)})

    def _start(self, ids: list[int]) -> None:
        fresh = [i for i in ids if i not in self._running]
        self._again.update(i for i in ids if i in self._running)
        if not fresh:
            return
        self._running.update(fresh)
        task = asyncio.create_task(self._check(fresh))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(self, ids: list[int]) -> None:
        batch = list(ids)
        try:
            while batch:
                result = await self.service.check_ids(batch)
                self._on_cycle(result)
                self._on_dispatch(await self.service.flush_deliveries())
                batch = [i for i in ids if i in self._again]  # events during that check
                self._again.difference_update(batch)
        except Exception:  # the next poll checks the target anyway
            log.exception("checking after a hub webhook failed")
        finally:
            self._running.difference_update(ids)
            self._again.difference_update(ids)

    async def aclose(self) -> None:
        """Let checks already started finish (they hold leases and queued alerts)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
