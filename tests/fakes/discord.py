"""A fake Discord (REST API + gateway WebSocket) that the real discord.py talks to.

Why a real server: what can go wrong lives in discord.py's own HTTP, rate-limit and gateway
handling, so the library must run unchanged. This is an aiohttp app on 127.0.0.1 that follows
``../shared/platform-facts.md`` §4 (and its three catches):

- every JSON answer has ``Content-Type: application/json`` exactly (discord.py compares the
  string; aiohttp's ``json_response`` adds ``; charset=utf-8`` and breaks login);
- interaction callbacks (``?with_response=1``) answer 200 with the callback JSON, not 204;
- a 429 carries ``Via`` (without it discord.py assumes a Cloudflare ban) and ``retry_after``.

REST routes: ``GET /users/@me``, ``/oauth2/applications/@me``, ``/gateway``, ``/gateway/bot``;
``PUT /applications/{app}/commands`` and ``.../guilds/{guild}/commands`` (bulk overwrite);
``POST /channels/{id}/messages`` (JSON or multipart, nonce + ``enforce_nonce`` deduplication);
``POST /interactions/{id}/{token}/callback``; ``POST /webhooks/{app}/{token}`` (follow-ups),
``PATCH``/``DELETE .../messages/@original``; ``POST /webhooks/{id}/{token}[?wait=true]``.

Gateway (``/gw``, text frames): HELLO → IDENTIFY → READY, heartbeat ACKs, then dispatches that
tests push with :meth:`FakeDiscord.interact`. The interaction builders (:meth:`slash`,
:meth:`autocomplete`, :meth:`click`) produce payloads shaped like the gateway's, with option
types taken from the commands the bot synced, so a test cannot use an option the bot lacks.

Behaviour modelled on Discord's docs but not verified live is marked [doc] or [2nd]:
- [doc] ``enforce_nonce``: a repeated nonce from the same author within a few minutes returns
  the existing message instead of posting again (window here: ``nonce_window`` seconds).
- [2nd] the first follow-up after a "thinking" defer replaces the loading message and keeps the
  defer's ephemerality; later follow-ups use their own flags.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from aiohttp import BodyPartReader, WSMsgType, web

from tests.fakes.server import LocalServer

JSONDict = dict[str, Any]
DISCORD_EPOCH_MS = 1420070400000
EPHEMERAL = 1 << 6
MANAGE_CHANNELS = 1 << 4
# What a member of an ordinary server has in a channel: view, send, history, embed, attach …
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16)
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_CHANNELS
_OPTION_TYPES = {"sub_command": 1, "string": 3, "integer": 4, "boolean": 5, "number": 10}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, message: str, code: int) -> web.Response:
    return _json({"message": message, "code": code}, status)


@dataclass(slots=True)
class Posted:
    """One message as Discord stored it, with the request that created it."""

    channel_id: str
    message: JSONDict  # what Discord returned
    payload: JSONDict  # what the client sent (payload_json for multipart)
    files: list[tuple[str, bytes]]
    via: str  # "bot" | "webhook" | "interaction"

    @property
    def embed(self) -> JSONDict:
        embeds: list[JSONDict] = self.message.get("embeds", [])
        return embeds[0] if embeds else {}


@dataclass(slots=True)
class Interaction:
    """One interaction the fake dispatched, and everything the bot answered to it."""

    payload: JSONDict
    callback: JSONDict | None = None  # the body of POST .../callback
    followups: list[JSONDict] = field(default_factory=list)  # message objects
    original: JSONDict | None = None  # the @original message once it exists
    original_deleted: bool = False
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    dispatched_at: float = 0.0  # time.monotonic() when INTERACTION_CREATE was sent
    late_callback: float | None = None  # seconds, when a callback came after the deadline

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    def messages(self) -> list[JSONDict]:
        """Every message the user now sees as the answer: the original, then follow-ups."""
        first = [] if self.original is None or self.original_deleted else [self.original]
        return first + self.followups

    def text(self) -> str:
        return "\n".join(m.get("content", "") for m in self.messages())


@dataclass(slots=True)
class _Script:
    route: str
    status: int
    times: int
    retry_after: float | None = None
    via: bool = True
    code: int = 0
    hang: bool = False


class FakeDiscord(LocalServer):
    def __init__(
        self,
        *,
        token: str | None = None,
        nonce_window: float = 600.0,
        callback_deadline: float = 3.0,
    ) -> None:
        self._ids = itertools.count(1)
        # Discord's 3-second rule (platform-facts §4): a first response later than this is
        # answered 10062 Unknown interaction and recorded in ``late_callbacks``.
        self.callback_deadline = callback_deadline
        self.late_callbacks: list[Interaction] = []
        self.token = token or f"{secrets.token_urlsafe(18)}.{secrets.token_urlsafe(4)}.x"
        self.application_id = self.snowflake()
        self.bot_user = {
            "id": self.application_id,
            "username": "policybot",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "public_flags": 0,
            "flags": 0,
        }
        self.guild_id = self.snowflake()
        self.nonce_window = nonce_window
        self.url = ""
        self.channels: dict[str, str] = {}  # channel id → guild id
        self.gone_channels: dict[str, tuple[int, str, int]] = {}  # id → (status, message, code)
        self.webhooks: dict[tuple[str, str], str] = {}  # (id, token) → channel id
        self.posted: list[Posted] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) in order
        self.commands: dict[str | None, list[JSONDict]] = {}  # guild id (None: global) → list
        self.guild_locale = "en-US"  # the server's community language (interactions carry it)
        self.interactions: dict[str, Interaction] = {}
        self.identified = asyncio.Event()
        self.identify_payloads: list[JSONDict] = []
        self._nonces: dict[tuple[str, str], tuple[float, JSONDict]] = {}
        self._scripts: list[_Script] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self._hang = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    runner_options: ClassVar[dict[str, Any]] = {"handler_cancellation": True}

    def build_app(self) -> web.Application:
        app = web.Application()
        r = app.router
        r.add_get("/gw", self._gateway)
        r.add_get("/api/v10/users/@me", self._me)
        r.add_get("/api/v10/oauth2/applications/@me", self._application)
        r.add_get("/api/v10/gateway", self._gateway_url)
        r.add_get("/api/v10/gateway/bot", self._gateway_url)
        r.add_put("/api/v10/applications/{app}/commands", self._put_commands)
        r.add_put("/api/v10/applications/{app}/guilds/{guild}/commands", self._put_commands)
        r.add_post("/api/v10/channels/{channel}/messages", self._create_message)
        r.add_post("/api/v10/interactions/{id}/{token}/callback", self._callback)
        r.add_post("/api/v10/webhooks/{id}/{token}", self._execute_webhook)
        r.add_patch("/api/v10/webhooks/{id}/{token}/messages/@original", self._edit_original)
        r.add_delete("/api/v10/webhooks/{id}/{token}/messages/@original", self._delete_original)
        return app

    async def close(self) -> None:
        self._hang.set()
        for ws in list(self._sockets):
            await ws.close()
        await super().close()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/gw"

    # ------------------------------------------------------------------ state for tests

    def snowflake(self) -> str:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (1 << 17) | (next(self._ids) & 0xFFF))

    def add_channel(self) -> str:
        channel_id = self.snowflake()
        self.channels[channel_id] = self.guild_id
        return channel_id

    def remove_channel(self, channel_id: str) -> None:
        """The channel was deleted: 404 Unknown Channel (10003)."""
        self.gone_channels[channel_id] = (404, "Unknown Channel", 10003)

    def revoke_access(self, channel_id: str) -> None:
        """The bot was removed from the channel: 403 Missing Access (50001)."""
        self.gone_channels[channel_id] = (403, "Missing Access", 50001)

    def add_webhook(self, channel_id: str) -> str:
        """A channel webhook; returns the URL a user copies from Discord's settings."""
        webhook_id, token = self.snowflake(), secrets.token_urlsafe(51)
        self.webhooks[(webhook_id, token)] = channel_id
        return f"https://discord.com/api/webhooks/{webhook_id}/{token}"

    def delete_webhook(self, url: str) -> None:
        webhook_id, token = url.rstrip("/").split("/")[-2:]
        self.webhooks.pop((webhook_id, token), None)

    def fail(
        self,
        route: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        via: bool = True,
        code: int = 0,
    ) -> None:
        """The next ``times`` requests to ``route`` ("create_message", "execute_webhook",
        "callback", "followup", "commands") fail with ``status``."""
        self._scripts.append(_Script(route, status, times, retry_after, via, code))

    def hang_after_accept(self, route: str = "create_message") -> None:
        """The next message is stored, but the answer never comes (a crash mid-request)."""
        self._scripts.append(_Script(route, 200, 1, hang=True))

    def messages(self, channel_id: str) -> list[Posted]:
        return [p for p in self.posted if p.channel_id == channel_id]

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for m, p in self.requests if m == method and path_part in p)

    # ------------------------------------------------------------------ interactions

    def _base_interaction(
        self, kind: int, channel_id: str, user_id: str | None, permissions: int
    ) -> JSONDict:
        user = {
            "id": user_id or "112233445566778899",
            "username": "alice",
            "discriminator": "0",
            "global_name": "Alice",
            "avatar": None,
            "public_flags": 0,
        }
        return {
            "id": self.snowflake(),
            "application_id": self.application_id,
            "type": kind,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(120),
            "version": 1,
            "guild_id": self.guild_id,
            "guild": {"id": self.guild_id, "locale": self.guild_locale, "features": []},
            "guild_locale": self.guild_locale,
            "channel_id": channel_id,
            "channel": {
                "id": channel_id,
                "type": 0,
                "guild_id": self.guild_id,
                "name": "policy-watch",
                "position": 3,
                "parent_id": None,
                "permission_overwrites": [],
                "nsfw": False,
                "topic": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "flags": 0,
                "permissions": str(permissions),
            },
            "member": {
                "user": user,
                "roles": [],
                "nick": None,
                "avatar": None,
                "premium_since": None,
                "joined_at": "2025-03-01T10:00:00.000000+00:00",
                "deaf": False,
                "mute": False,
                "pending": False,
                "flags": 0,
                "communication_disabled_until": None,
                "permissions": str(permissions),
            },
            "app_permissions": str(MEMBER_PERMISSIONS),
            "locale": "en-GB",
            "entitlements": [],
            "authorizing_integration_owners": {"0": self.guild_id},
            "context": 0,
            "attachment_size_limit": 10485760,
        }

    def _command(self, name: str) -> JSONDict:
        for commands in self.commands.values():
            for command in commands:
                if command["name"] == name:
                    return command
        raise AssertionError(f"the bot never synced a command named {name!r}")

    def _options(
        self, group: str, sub: str, values: dict[str, Any], focused: str | None
    ) -> JSONDict:
        command = self._command(group)
        spec = next((o for o in command.get("options", []) if o["name"] == sub), None)
        if spec is None:
            raise AssertionError(f"/{group} has no subcommand {sub!r}")
        known = {o["name"]: o for o in spec.get("options", [])}
        options = []
        for name, value in values.items():
            if name not in known:
                raise AssertionError(f"/{group} {sub} has no option {name!r} (has {list(known)})")
            option: JSONDict = {"name": name, "type": known[name]["type"], "value": value}
            if name == focused:
                option["focused"] = True
            options.append(option)
        data: JSONDict = {
            "id": command["id"],
            "name": group,
            "type": 1,
            "options": [{"name": sub, "type": 1, "options": options}],
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return data

    def slash(
        self,
        sub: str,
        *,
        channel_id: str,
        user_id: str | None = None,
        permissions: int = ADMIN_PERMISSIONS,
        group: str = "policy",
        **values: Any,
    ) -> JSONDict:
        """An APPLICATION_COMMAND interaction (type 2) for ``/group sub option:value …``."""
        payload = self._base_interaction(2, channel_id, user_id, permissions)
        payload["data"] = self._options(group, sub, values, None)
        return payload

    def autocomplete(
        self, sub: str, focused: str, *, channel_id: str, group: str = "policy", **values: Any
    ) -> JSONDict:
        """An APPLICATION_COMMAND_AUTOCOMPLETE interaction (type 4); ``focused`` is being typed."""
        payload = self._base_interaction(4, channel_id, None, ADMIN_PERMISSIONS)
        payload["data"] = self._options(group, sub, values, focused)
        return payload

    def click(
        self,
        posted: Posted,
        custom_id: str,
        *,
        user_id: str | None = None,
        permissions: int = ADMIN_PERMISSIONS,
    ) -> JSONDict:
        """A MESSAGE_COMPONENT interaction (type 3): a button on a message the bot posted."""
        ids = [c["custom_id"] for row in posted.message["components"] for c in row["components"]]
        if custom_id not in ids:
            raise AssertionError(f"no button {custom_id!r} on that message (has {ids})")
        payload = self._base_interaction(3, posted.channel_id, user_id, permissions)
        payload["message"] = posted.message
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        return payload

    async def interact(self, payload: JSONDict, *, timeout: float = 10.0) -> Interaction:
        """Dispatch INTERACTION_CREATE and wait until the bot has answered it (any callback)."""
        record = Interaction(payload, dispatched_at=time.monotonic())
        self.interactions[record.id] = record
        await self.dispatch("INTERACTION_CREATE", payload)
        await asyncio.wait_for(record.answered.wait(), timeout)
        return record

    async def wait_for_message(self, record: Interaction, *, timeout: float = 10.0) -> JSONDict:
        """Wait until the answer to ``record`` contains a message (after a defer)."""

        async def ready() -> None:
            while not record.messages() or record.messages()[0].get("_loading"):
                record.changed.clear()
                await record.changed.wait()

        await asyncio.wait_for(ready(), timeout)
        return record.messages()[-1]

    async def wait_identified(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self.identified.wait(), timeout)

    async def dispatch(self, event: str, data: JSONDict) -> None:
        if not self._sockets:
            raise AssertionError("no gateway session is connected")
        self._seq += 1
        frame = {"op": 0, "s": self._seq, "t": event, "d": data}
        for ws in self._sockets:
            await ws.send_str(json.dumps(frame))

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        try:
            await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                if frame["op"] == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif frame["op"] == 2:
                    await self._identify(ws, frame["d"])
        finally:
            self._sockets.remove(ws)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: JSONDict) -> None:
        self.identify_payloads.append(data)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self._seq += 1
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": self.guild_id, "unavailable": True}],
            "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.gateway_url,
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "_trace": ["fake-discord"],
        }
        await ws.send_str(json.dumps({"op": 0, "s": self._seq, "t": "READY", "d": ready}))
        self.identified.set()

    # ------------------------------------------------------------------ REST

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    def _record(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path))

    def _scripted(self, route: str) -> _Script | None:
        for script in self._scripts:
            if script.route == route and script.times > 0:
                script.times -= 1
                return script
        return None

    def _script_response(self, script: _Script) -> web.Response:
        if script.status == 429:
            retry = script.retry_after if script.retry_after is not None else 1.0
            headers = {
                "Retry-After": str(max(1, round(retry))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(retry),
                "X-RateLimit-Scope": "user",
                "X-RateLimit-Bucket": "fake-bucket",
            }
            if script.via:
                headers["Via"] = "1.1 google"
            body = {"message": "You are being rate limited.", "retry_after": retry, "global": False}
            return _json(body, 429, headers)
        messages = {500: "500: Internal Server Error", 503: "upstream connect error"}
        return _error(script.status, messages.get(script.status, "error"), script.code)

    async def _me(self, request: web.Request) -> web.Response:
        self._record(request)
        if not self._authorised(request):
            return _error(401, "401: Unauthorized", 0)
        return _json(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        self._record(request)
        if not self._authorised(request):
            return _error(401, "401: Unauthorized", 0)
        return _json(
            {
                "id": self.application_id,
                "name": "policybot",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": {**self.bot_user, "id": "200000000000000001", "bot": False},
                "verify_key": secrets.token_hex(32),
                "flags": 0,
                "summary": "",
                "team": None,
            }
        )

    async def _gateway_url(self, request: web.Request) -> web.Response:
        self._record(request)
        if request.path.endswith("/bot") and not self._authorised(request):
            return _error(401, "401: Unauthorized", 0)
        limits = {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limits})

    async def _put_commands(self, request: web.Request) -> web.Response:
        self._record(request)
        if not self._authorised(request):
            return _error(401, "401: Unauthorized", 0)
        script = self._scripted("commands")
        if script is not None:
            return self._script_response(script)
        guild = request.match_info.get("guild")
        stored = []
        for command in await request.json():
            if command.get("default_member_permissions") is not None:
                # Discord answers with the bit set as a string, whatever the client sent.
                command["default_member_permissions"] = str(command["default_member_permissions"])
            stored.append(
                {
                    **command,
                    "id": self.snowflake(),
                    "application_id": self.application_id,
                    "version": self.snowflake(),
                    **({"guild_id": guild} if guild else {}),
                }
            )
        self.commands[guild] = stored
        return _json(stored)

    async def _read_message_request(self, request: web.Request) -> tuple[JSONDict, list[Any]]:
        if request.content_type == "multipart/form-data":
            payload: JSONDict = {}
            files: list[tuple[str, bytes]] = []
            reader = await request.multipart()
            async for part in reader:
                assert isinstance(part, BodyPartReader), "discord.py sends no nested multipart"
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                elif part.name and part.name.startswith("files["):
                    files.append((part.filename or "", await part.read()))
            return payload, files
        return await request.json(), []

    def _message(
        self, channel_id: str, payload: JSONDict, files: list[Any], author: JSONDict, **extra: Any
    ) -> JSONDict:
        reference = payload.get("message_reference")
        attachments = [
            {
                "id": self.snowflake(),
                "filename": name,
                "size": len(data),
                "url": f"{self.url}/attachments/{channel_id}/{name}",
                "proxy_url": f"{self.url}/attachments/{channel_id}/{name}",
                "content_type": "text/plain; charset=utf-8",
            }
            for name, data in files
        ]
        return {
            "id": self.snowflake(),
            "type": 19 if reference else 0,
            "channel_id": channel_id,
            "author": author,
            "content": payload.get("content") or "",
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments,
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "pinned": False,
            "flags": payload.get("flags", 0) or 0,
            **({"nonce": payload["nonce"]} if payload.get("nonce") is not None else {}),
            **({"message_reference": {**reference, "type": 0}} if reference else {}),
            **extra,
        }

    async def _create_message(self, request: web.Request) -> web.Response:
        self._record(request)
        if not self._authorised(request):
            return _error(401, "401: Unauthorized", 0)
        channel_id = request.match_info["channel"]
        script = self._scripted("create_message")
        if script is not None and not script.hang:
            return self._script_response(script)
        if channel_id in self.gone_channels:
            status, reason, code = self.gone_channels[channel_id]
            return _error(status, reason, code)
        if channel_id not in self.channels:
            return _error(404, "Unknown Channel", 10003)
        payload, files = await self._read_message_request(request)
        nonce = payload.get("nonce")
        key = (str(self.bot_user["id"]), str(nonce))
        if nonce is not None and payload.get("enforce_nonce") and key in self._nonces:
            when, existing = self._nonces[key]
            if time.monotonic() - when < self.nonce_window:
                return _json(existing)
        message = self._message(channel_id, payload, files, self.bot_user)
        self.posted.append(Posted(channel_id, message, payload, files, "bot"))
        if nonce is not None:
            self._nonces[key] = (time.monotonic(), message)
        if script is not None and script.hang:
            await self._hang.wait()
        return _json(message, headers=_ok_ratelimit_headers())

    async def _execute_webhook(self, request: web.Request) -> web.Response:
        self._record(request)
        hook_id, token = request.match_info["id"], request.match_info["token"]
        if hook_id == self.application_id:
            return await self._followup(request, token)
        script = self._scripted("execute_webhook")
        if script is not None:
            return self._script_response(script)
        channel_id = self.webhooks.get((hook_id, token))
        if channel_id is None:
            return _error(404, "Unknown Webhook", 10015)
        payload, files = await self._read_message_request(request)
        author = {
            "id": hook_id,
            "username": "Policy alerts",
            "discriminator": "0000",
            "avatar": None,
            "bot": True,
        }
        message = self._message(channel_id, payload, files, author, webhook_id=hook_id)
        self.posted.append(Posted(channel_id, message, payload, files, "webhook"))
        if request.query.get("wait", "").lower() != "true":
            return web.Response(status=204)
        return _json(message, headers=_ok_ratelimit_headers())

    def _interaction(self, token: str) -> Interaction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    async def _callback(self, request: web.Request) -> web.Response:
        self._record(request)
        record = self.interactions.get(request.match_info["id"])
        if record is None or record.token != request.match_info["token"]:
            return _error(404, "Unknown interaction", 10062)
        if record.callback is not None:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        waited = time.monotonic() - record.dispatched_at
        if waited > self.callback_deadline:
            record.late_callback = waited
            self.late_callbacks.append(record)
            record.answered.set()
            record.changed.set()
            return _error(404, "Unknown interaction", 10062)
        script = self._scripted("callback")
        if script is not None:
            return self._script_response(script)
        payload, files = await self._read_message_request(request)
        record.callback = payload
        kind, data = payload["type"], payload.get("data") or {}
        ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
        channel_id = str(record.payload["channel_id"])
        resource: JSONDict = {"type": kind}
        if kind == 4:  # CHANNEL_MESSAGE_WITH_SOURCE
            record.original = self._message(
                channel_id, data, files, self.bot_user, interaction_metadata=_metadata(record)
            )
            self.posted.append(Posted(channel_id, record.original, data, files, "interaction"))
            resource["message"] = record.original
        elif kind == 5:  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "… is thinking"
            record.original = self._message(channel_id, data, [], self.bot_user, _loading=True)
        elif kind == 7 and "message" in record.payload:  # UPDATE_MESSAGE (components)
            record.payload["message"].update({k: v for k, v in data.items() if k != "flags"})
        record.answered.set()
        record.changed.set()
        body = {
            "interaction": {
                "id": record.id,
                "type": record.payload["type"],
                "response_message_id": record.original["id"] if record.original else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": ephemeral,
            },
            "resource": resource,
        }
        return _json(body)

    async def _followup(self, request: web.Request, token: str) -> web.Response:
        record = self._interaction(token)
        if record is None:
            return _error(404, "Unknown Webhook", 10015)
        script = self._scripted("followup")
        if script is not None:
            return self._script_response(script)
        payload, files = await self._read_message_request(request)
        channel_id = str(record.payload["channel_id"])
        original = record.original
        if original is not None and original.get("_loading") and not record.original_deleted:
            # The first follow-up fills the "thinking" message and keeps the defer's flags.
            flags = (record.callback or {}).get("data", {}).get("flags", 0) or 0
            message = self._message(
                channel_id,
                {**payload, "flags": flags},
                files,
                self.bot_user,
                interaction_metadata=_metadata(record),
            )
            message["id"] = original["id"]
            record.original = message
        else:
            message = self._message(
                channel_id, payload, files, self.bot_user, interaction_metadata=_metadata(record)
            )
            record.followups.append(message)
        self.posted.append(Posted(channel_id, message, payload, files, "interaction"))
        record.changed.set()
        return _json(message)

    async def _edit_original(self, request: web.Request) -> web.Response:
        self._record(request)
        record = self._interaction(request.match_info["token"])
        if record is None or record.original is None:
            return _error(404, "Unknown Message", 10008)
        payload, _files = await self._read_message_request(request)
        record.original = {**record.original, **payload, "_loading": False}
        record.changed.set()
        return _json(record.original)

    async def _delete_original(self, request: web.Request) -> web.Response:
        self._record(request)
        record = self._interaction(request.match_info["token"])
        if record is None or record.original is None:
            return _error(404, "Unknown Message", 10008)
        record.original_deleted = True
        record.changed.set()
        return web.Response(status=204)


def _metadata(record: Interaction) -> JSONDict:
    """``interaction_metadata`` of a message that answers an interaction."""
    payload = record.payload
    data: JSONDict = {
        "id": record.id,
        "type": payload["type"],
        "user": payload["member"]["user"],
        "authorizing_integration_owners": payload["authorizing_integration_owners"],
    }
    if payload["type"] == 2:
        data["name"] = payload["data"]["name"]
        data["command_type"] = payload["data"]["type"]
    if payload["type"] == 3:
        data["interacted_message_id"] = payload["message"]["id"]
    return data


def _ok_ratelimit_headers() -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset-After": "5.0",
        "X-RateLimit-Reset": f"{time.time() + 5:.3f}",
        "X-RateLimit-Bucket": "fake-bucket",
    }


__all__ = ["ADMIN_PERMISSIONS", "MEMBER_PERMISSIONS", "FakeDiscord", "Interaction", "Posted"]
