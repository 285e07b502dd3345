"""A fake Slack that the real slack_sdk / slack_bolt talk to: Web API, Socket Mode, webhooks.

Follows `../shared/platform-facts.md` §3 and the checklist in §7:

* Web API on ``{url}/api/<method>``: ``auth.test``, ``apps.connections.open`` (→ a ``ws://``
  URL with a one-use ticket), ``chat.postMessage``, ``chat.postEphemeral``, ``chat.update``,
  ``users.info``. Form-encoded or JSON bodies, ``Authorization: Bearer``; answers are JSON with
  ``ok``; a logical error is HTTP 200 ``{"ok": false, "error": ...}``; a rate limit is HTTP 429
  with ``Retry-After`` and ``{"ok": false, "error": "ratelimited"}``. Messages with blocks that
  break Block Kit limits are refused with ``invalid_blocks`` as Slack does.
* Socket Mode on ``{url}/link/?ticket=…``: sends ``hello`` on connect, then whatever envelopes
  a test hands it, and records every ``{"envelope_id": …}`` ack with the time it arrived.
* ``response_url`` endpoints (``/commands/…``) and incoming webhooks (``/services/…``).

Tests script failures between steps::

    async with FakeSlack() as slack:
        slack.fail("chat.postMessage", status=429, headers={"Retry-After": "30"})
        slack.fail("chat.postMessage", error="invalid_auth")
        env = await slack.send_slash("watch hf:acme/model", channel="C0123ABCD", user="U1")
        ack = await slack.wait_ack(env)

``serve_in_thread`` runs one on its own event loop (benchmarks measure ack latency there, so
the bot's loop being busy shows up in the numbers instead of in the fake).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from tests.fakes.server import LocalServer

__all__ = [
    "Ack",
    "FakeSlack",
    "Posted",
    "block_problems",
    "mentions",
    "serve_in_thread",
    "sign",
]

JSONDict = dict[str, Any]

BOT_TOKEN = "xoxb-1111-2222-faketoken"
APP_TOKEN = "xapp-1-A0FAKE-3333-faketoken"
SIGNING_SECRET = "fake-signing-secret-0123456789abcdef"
TEAM_ID = "T0FAKE"
APP_ID = "A0FAKE"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret-abcdef0123456789"

# Limits Slack enforces that slack_sdk's validators do not check (platform-facts §3.5).
_FIELD_MAX = 2000
_BLOCKS_MAX = 50
_CONTEXT_TEXT_MAX = 3000
_MESSAGE_BLOCK_CHARS_MAX = 13_000
_TEXT_MAX = 40_000


def block_problems(blocks: Any) -> list[str]:
    """Why Slack would refuse these blocks (empty when valid).

    Uses slack_sdk's own block models for per-block rules (header ≤ 150, section ≤ 3000, …),
    walks into elements the models do not validate recursively (buttons, context texts), and
    adds the message-level limits.
    """
    problems: list[str] = []
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    if len(blocks) > _BLOCKS_MAX:
        problems.append(f"{len(blocks)} blocks (max {_BLOCKS_MAX})")
    for index, raw in enumerate(blocks):
        try:
            block = Block.parse(raw)
            if block is None or type(block) is Block:
                problems.append(f"block {index}: unknown type {raw.get('type')!r}")
                continue
            block.validate_json()
            for element in getattr(block, "elements", None) or []:
                validate = getattr(element, "validate_json", None)
                if validate is not None:
                    validate()
        except (SlackObjectFormationError, KeyError, TypeError, AttributeError) as e:
            problems.append(f"block {index}: {e}")
            continue
        for item in raw.get("fields") or []:
            if len(item.get("text", "")) > _FIELD_MAX:
                problems.append(f"block {index}: a field is longer than {_FIELD_MAX}")
        if raw.get("type") == "context":
            for item in raw.get("elements", []):
                if len(item.get("text", "")) > _CONTEXT_TEXT_MAX:
                    problems.append(f"block {index}: a context text is too long")
    size = len(json.dumps(blocks, ensure_ascii=False))
    if size > _MESSAGE_BLOCK_CHARS_MAX + 4000:  # JSON overhead of a few dozen blocks
        problems.append(f"message blocks too long ({size} chars of JSON)")
    return problems


_CONTROL = re.compile(r"<(!channel|!here|!everyone|!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+)[|>]")
_BARE = re.compile(r"(?<![\w])@(channel|here|everyone)\b")


def mentions(message: Mapping[str, Any]) -> list[str]:
    """Who this message would notify, read the way Slack reads it.

    Control sequences (``<!channel>``, ``<@U…>``) ping anywhere in mrkdwn or the top-level
    text; a bare ``@channel`` pings only where Slack parses names: mrkdwn objects that are not
    ``verbatim``, and the top-level text when ``link_names`` is set.
    """
    found: list[str] = []

    def scan(text: str, parse_names: bool) -> None:
        found.extend(m.group(1) for m in _CONTROL.finditer(text))
        if parse_names:
            found.extend("!" + m.group(1) for m in _BARE.finditer(text))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                scan(node["text"], not node.get("verbatim", False))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    scan(str(message.get("text") or ""), bool(message.get("link_names")))
    walk(message.get("blocks") or [])
    return found


def sign(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers Slack sends with a request (v0 HMAC-SHA256 of ``v0:{ts}:{raw body}``)."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


@dataclass(frozen=True, slots=True)
class Posted:
    """One message a client posted (``chat.postMessage`` / ``postEphemeral`` / ``update``,
    a response_url answer or an incoming-webhook post), as the fake received it."""

    kind: str  # "message" | "ephemeral" | "update" | "response" | "webhook"
    channel: str
    ts: str
    text: str
    blocks: list[JSONDict]
    thread_ts: str | None
    body: JSONDict
    at: float  # time.monotonic() when it arrived
    team: str = TEAM_ID  # the workspace whose bot token posted it

    def all_text(self) -> str:
        """Everything a reader would see: fallback text and every text in the blocks."""
        parts = [self.text]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "text" and isinstance(value, str):
                        parts.append(value)
                    else:
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.blocks)
        return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class Ack:
    envelope_id: str
    payload: JSONDict | None
    latency: float  # seconds from sending the envelope to receiving this ack
    late: bool = False  # after Slack's 3 s: the user saw a timeout, the payload was dropped


@dataclass(slots=True)
class _Failure:
    status: int
    error: str
    headers: dict[str, str]
    times: int


@dataclass(slots=True)
class _State:
    calls: list[tuple[str, JSONDict, dict[str, str]]] = field(default_factory=list)
    posted: list[Posted] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    channel_errors: dict[str, str] = field(default_factory=dict)
    users: dict[str, JSONDict] = field(default_factory=dict)
    webhooks: dict[str, str] = field(default_factory=dict)  # secret → channel
    webhook_failures: dict[str, list[tuple[int, str, dict[str, str]]]] = field(default_factory=dict)
    # Many workspaces (OAuth v2): bot token → its workspace; codes handed out by the
    # authorize page → the install they complete; the next install's workspace.
    tokens: dict[str, _Workspace] = field(default_factory=dict)
    codes: dict[str, _Workspace] = field(default_factory=dict)
    installing: _Workspace | None = None
    channel_creators: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Workspace:
    team_id: str | None  # None for an org-wide (Enterprise Grid) install
    team_name: str
    enterprise_id: str | None
    installer: str
    org_wide: bool = False


class FakeSlack(LocalServer):
    def __init__(
        self,
        *,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        ack_deadline: float = 3.0,
    ) -> None:
        # Slack's 3-second rule (platform-facts §3.1/§3.3): a later ack is a failed command.
        self.ack_deadline = ack_deadline
        self.late_acks: list[Ack] = []
        self.bot_token = bot_token
        self.app_token = app_token
        self.bind = (host, port)
        self._lock = threading.Lock()
        self._state = _State()
        self._ts = itertools.count(1)
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._sent_at: dict[str, float] = {}
        self._acks: dict[str, Ack] = {}
        self._ack_waiters: dict[str, asyncio.Future[Ack]] = {}
        self.connected = asyncio.Event()
        self.url = ""
        self.delays: dict[str, float] = {}  # method → seconds before it answers (a slow API)
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self._state.tokens[bot_token] = _Workspace(TEAM_ID, "Fake", None, "U0USER1")

    # -- lifecycle ------------------------------------------------------------------------

    runner_options: ClassVar[dict[str, Any]] = {"handle_signals": False}

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # the SDK reads users.info with GET
        app.router.add_get("/link/", self._socket)
        app.router.add_post("/commands/{team}/{id}/{token}", self._response_url)
        app.router.add_post("/actions/{team}/{id}/{token}", self._response_url)
        app.router.add_post("/services/{team}/{bot}/{secret}", self._webhook)
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        return app

    async def start(self) -> None:
        await super().start()
        self.connected = asyncio.Event()

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        await super().close()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    # -- scripting ------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        error: str = "internal_error",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` fail. ``status=429`` is a rate limit, which
        real Slack always sends with ``Retry-After`` (1 s unless ``headers`` says otherwise)."""
        merged = dict(headers or {})
        if status == 429:
            error = "ratelimited"
            merged = _with_retry_after(merged)
        with self._lock:
            self._state.failures.setdefault(method, []).append(
                _Failure(status, error, merged, times)
            )

    def channel_error(self, channel: str, error: str | None) -> None:
        """Posts to ``channel`` get ``{"ok": false, "error": error}`` (None clears it)."""
        with self._lock:
            if error is None:
                self._state.channel_errors.pop(channel, None)
            else:
                self._state.channel_errors[channel] = error

    def add_user(
        self, user_id: str, *, admin: bool = False, owner: bool = False, name: str = ""
    ) -> None:
        with self._lock:
            self._state.users[user_id] = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": name or user_id.lower(),
                "deleted": False,
                "is_admin": admin or owner,
                "is_owner": owner,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": False,
            }

    def webhook(self, channel: str) -> str:
        """A new incoming-webhook URL that posts into ``channel``."""
        secret = uuid.uuid4().hex[:24]
        with self._lock:
            self._state.webhooks[secret] = channel
        return f"{self.url}/services/{TEAM_ID}/B0HOOK/{secret}"

    def fail_webhook(
        self, url: str, status: int, body: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        """The next post to this webhook gets ``status`` with a plain-text ``body`` (a 429
        always carries ``Retry-After``, as on real Slack)."""
        secret = url.rsplit("/", 1)[-1]
        merged = _with_retry_after(dict(headers or {})) if status == 429 else dict(headers or {})
        with self._lock:
            self._state.webhook_failures.setdefault(secret, []).append((status, body, merged))

    # -- many workspaces (OAuth v2 install, uninstall) ---------------------------------------

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/oauth/v2/authorize"

    def install_as(
        self,
        team_id: str | None,
        *,
        name: str = "",
        enterprise_id: str | None = None,
        installer: str = "U0ADMIN",
        org_wide: bool = False,
    ) -> None:
        """Who clicks "Allow" on the next authorize page: a workspace (or, with ``org_wide``,
        an Enterprise Grid org admin installing for the whole org: no team)."""
        with self._lock:
            self._state.installing = _Workspace(
                None if org_wide else team_id,
                name or f"Team {team_id}",
                enterprise_id,
                installer,
                org_wide,
            )

    def uninstall(self, team_id: str) -> None:
        """The workspace removes the app: its bot tokens stop working (``invalid_auth``,
        as Slack answers a revoked token once the app is gone)."""
        with self._lock:
            for token, ws in list(self._state.tokens.items()):
                if ws.team_id == team_id:
                    del self._state.tokens[token]

    def token_of(self, team_id: str) -> str | None:
        with self._lock:
            for token, ws in self._state.tokens.items():
                if ws.team_id == team_id:
                    return token
        return None

    def set_channel_creator(self, channel: str, user: str) -> None:
        with self._lock:
            self._state.channel_creators[channel] = user

    def event_body(self, team_id: str, event: JSONDict) -> bytes:
        """An Events API ``event_callback`` envelope, as Slack posts it to the Request URL."""
        return json.dumps(
            {
                "token": "deprecated-verification-token",
                "team_id": team_id,
                "api_app_id": APP_ID,
                "event": {**event, "event_ts": f"{time.time():.6f}"},
                "type": "event_callback",
                "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "enterprise_id": None,
                        "team_id": team_id,
                        "user_id": BOT_USER,
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
                "is_ext_shared_channel": False,
            }
        ).encode()

    def app_uninstalled(self, team_id: str) -> bytes:
        """Slack revokes the tokens, then sends ``app_uninstalled`` (returns the event body)."""
        self.uninstall(team_id)
        return self.event_body(team_id, {"type": "app_uninstalled"})

    def tokens_revoked(self, team_id: str) -> bytes:
        self.uninstall(team_id)
        return self.event_body(
            team_id, {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [BOT_USER]}}
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        """``/oauth/v2/authorize``: the person approves at once; Slack redirects back to the
        app's redirect_uri with a one-use ``code`` and the ``state`` it was given."""
        query = request.query
        if query.get("client_id") != self.client_id:
            return web.Response(status=400, text="invalid_client_id")
        redirect = query.get("redirect_uri", "")
        with self._lock:
            who = self._state.installing
            if who is None:
                return web.Response(status=400, text="nobody is installing (call install_as)")
            code = f"{uuid.uuid4().hex[:12]}.{next(self._ts)}"
            self._state.codes[code] = who
            self._state.calls.append(("oauth/v2/authorize", dict(query), {}))
        sep = "&" if "?" in redirect else "?"
        location = f"{redirect}{sep}code={code}&state={query.get('state', '')}"
        raise web.HTTPFound(location)

    def _oauth_access(self, params: JSONDict, headers: dict[str, str]) -> web.Response:
        """``oauth.v2.access`` (docs.slack.dev/reference/methods/oauth.v2.access): client
        credentials as HTTP Basic auth or form fields; a code works once."""
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        auth = headers.get("authorization", "")
        if auth.startswith("Basic "):
            import base64

            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != self.client_id:
            return _error("invalid_client_id")
        if client_secret != self.client_secret:
            return _error("bad_client_secret")
        with self._lock:
            who = self._state.codes.pop(str(params.get("code", "")), None)
        if who is None:
            return _error("invalid_code")
        token = f"xoxb-{(who.team_id or who.enterprise_id or 'X')}-{uuid.uuid4().hex[:16]}"
        with self._lock:
            self._state.tokens[token] = who
        enterprise = (
            {"id": who.enterprise_id, "name": f"Org {who.enterprise_id}"}
            if who.enterprise_id
            else None
        )
        return _ok(
            access_token=token,
            token_type="bot",
            scope=params.get("scope") or "commands,chat:write,users:read",
            bot_user_id=BOT_USER,
            app_id=APP_ID,
            team=None if who.org_wide else {"id": who.team_id, "name": who.team_name},
            enterprise=enterprise,
            is_enterprise_install=who.org_wide,
            authed_user={"id": who.installer},
        )

    # -- what happened --------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[tuple[str, JSONDict, dict[str, str]]]:
        with self._lock:
            return [c for c in self._state.calls if method is None or c[0] == method]

    def posted(self, kind: str | None = None, channel: str | None = None) -> list[Posted]:
        with self._lock:
            return [
                p
                for p in self._state.posted
                if (kind is None or p.kind == kind) and (channel is None or p.channel == channel)
            ]

    def messages(self, channel: str | None = None) -> list[Posted]:
        """Messages in channels (``chat.postMessage``), oldest first."""
        return self.posted("message", channel)

    def responses(self) -> list[Posted]:
        """Answers posted to response_url."""
        return self.posted("response")

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 10.0) -> list[Posted]:
        """Wait until at least ``count`` posts of ``kind`` arrived (answers after an ack)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.posted(kind)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} {kind} post(s), got {len(found)}")
            await asyncio.sleep(0.01)

    # -- Socket Mode ----------------------------------------------------------------------

    async def send_envelope(
        self, kind: str, payload: JSONDict, *, accepts_response_payload: bool | None = None
    ) -> str:
        """Hand the connected client one envelope; returns its id (to wait for the ack)."""
        if not self._sockets:
            raise RuntimeError("no Socket Mode client is connected")
        envelope_id = str(uuid.uuid4())
        accepts = (
            kind == "slash_commands"
            if accepts_response_payload is None
            else accepts_response_payload
        )
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts,
            "payload": payload,
        }
        loop = asyncio.get_running_loop()
        self._ack_waiters[envelope_id] = loop.create_future()
        self._sent_at[envelope_id] = time.monotonic()
        await self._sockets[-1].send_str(json.dumps(envelope))
        return envelope_id

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to move to a new connection, as Slack does every few hours."""
        if not self._sockets:
            raise RuntimeError("no Socket Mode client is connected")
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        await self._sockets[-1].send_str(json.dumps(message))

    def connections(self) -> int:
        return len(self._sockets)

    async def send_slash(
        self,
        text: str,
        *,
        channel: str = "C0123ABCD",
        user: str = "U0USER1",
        command: str = "/policy",
    ) -> str:
        return await self.send_envelope(
            "slash_commands", self.slash_payload(text, channel, user, command)
        )

    async def click(self, message: Posted, action: str, *, user: str = "U0USER1") -> str:
        """Click the button ``action`` (its action_id) on a posted message."""
        return await self.send_envelope(
            "interactive", self.block_actions_payload(message, action, user)
        )

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        """The ack of one envelope; fails the test when it came after Slack's deadline (the
        user would have seen a timeout, so an ack that was merely recorded proves nothing)."""
        ack = await asyncio.wait_for(asyncio.shield(self._ack_waiters[envelope_id]), timeout)
        assert not ack.late, f"ack after {ack.latency:.2f} s (Slack allows {self.ack_deadline} s)"
        return ack

    def acks(self) -> dict[str, Ack]:
        return dict(self._acks)

    # -- payload builders (the shapes of platform-facts §3.1 / Slack's block_actions) ------

    def slash_payload(
        self,
        text: str,
        channel: str,
        user: str,
        command: str = "/policy",
        *,
        team: str = TEAM_ID,
    ) -> JSONDict:
        token = uuid.uuid4().hex[:24]
        return {
            "token": "deprecated-verification-token",
            "team_id": team,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "policy-watch",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"{self.url}/commands/{team}/{next(self._ts)}/{token}",
            "trigger_id": f"{next(self._ts)}.1.{token}",
        }

    def block_actions_payload(self, message: Posted, action: str, user: str) -> JSONDict:
        button = None
        block_id = ""
        for block in message.blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == action:
                    button, block_id = element, block.get("block_id", "b1")
        if button is None:
            raise KeyError(f"the message has no button {action!r}")
        token = uuid.uuid4().hex[:24]
        return {
            "type": "block_actions",
            "user": {
                "id": user,
                "username": user.lower(),
                "name": user.lower(),
                "team_id": TEAM_ID,
            },
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{next(self._ts)}.1.{token}",
            "team": {"id": TEAM_ID, "domain": "fake"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": message.channel, "name": "policy-watch"},
            "message": {
                "type": "message",
                "user": BOT_USER,
                "bot_id": BOT_ID,
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
            },
            "state": {"values": {}},
            "response_url": f"{self.url}/actions/{TEAM_ID}/{next(self._ts)}/{token}",
            "actions": [
                {
                    "action_id": action,
                    "block_id": block_id,
                    "text": button["text"],
                    "value": button.get("value", ""),
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }

    # -- handlers -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            self._state.calls.append((method, params, headers))
            failure = self._take_failure(method)
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        if failure is not None:
            body = {"ok": False, "error": failure.error}
            return web.json_response(body, status=failure.status, headers=failure.headers)
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        token = token or str(params.get("token", ""))
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return _error("not_allowed_token_type")
            if token != self.app_token:
                return _error("invalid_auth")
            ticket = uuid.uuid4().hex
            self._tickets.add(ticket)
            ws_url = self.url.replace("http://", "ws://")
            return _ok(url=f"{ws_url}/link/?ticket={ticket}&app_id={APP_ID}")
        if method == "oauth.v2.access":
            return self._oauth_access(params, headers)
        if not token:
            return _error("not_authed")
        with self._lock:
            workspace = self._state.tokens.get(token)
        if workspace is None:
            return _error("invalid_auth")
        if method == "auth.test":
            return self._auth_test(workspace)
        if method == "chat.postMessage":
            params = {**params, "_team": workspace.team_id or ""}
        handler = {
            "conversations.info": self._conversations_info,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "users.info": self._users_info,
        }.get(method)
        if handler is None:
            return _error("unknown_method", status=404)
        return handler(params)

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._state.failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _auth_test(self, ws: _Workspace) -> web.Response:
        fields: JSONDict = {
            "url": "https://fake.slack.com/",
            "team": ws.team_name,
            "user": "policybot",
            "team_id": ws.team_id or "",
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": ws.org_wide,
        }
        if ws.enterprise_id:
            fields["enterprise_id"] = ws.enterprise_id
        return _ok(**fields)

    def _conversations_info(self, params: JSONDict) -> web.Response:
        channel = str(params.get("channel", ""))
        with self._lock:
            creator = self._state.channel_creators.get(channel, "U0SOMEONE")
        return _ok(channel={"id": channel, "name": "policy-watch", "creator": creator})

    def _message_problem(self, params: JSONDict) -> web.Response | None:
        channel = str(params.get("channel") or "")
        if not channel:
            return _error("channel_not_found")
        with self._lock:
            gone = self._state.channel_errors.get(channel)
        if gone:
            return _error(gone)
        blocks = params.get("blocks")
        text = params.get("text")
        if not text and not blocks:
            return _error("no_text")
        if text and len(str(text)) > _TEXT_MAX:
            return _error("msg_too_long")
        if blocks is not None:
            problems = block_problems(blocks)
            if problems:
                return web.json_response(
                    {"ok": False, "error": "invalid_blocks", "errors": problems}
                )
        return None

    def _record(self, kind: str, params: JSONDict, ts: str | None = None) -> Posted:
        team = str(params.pop("_team", TEAM_ID)) if "_team" in params else TEAM_ID
        posted = Posted(
            kind=kind,
            team=team,
            channel=str(params.get("channel", "")),
            ts=ts or f"{1767603600 + next(self._ts)}.{next(self._ts):06d}",
            text=str(params.get("text") or ""),
            blocks=list(params.get("blocks") or []),
            thread_ts=params.get("thread_ts"),
            body=params,
            at=time.monotonic(),
        )
        with self._lock:
            self._state.posted.append(posted)
        return posted

    def _post_message(self, params: JSONDict) -> web.Response:
        problem = self._message_problem(params)
        if problem is not None:
            return problem
        posted = self._record("message", params)
        message = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "ts": posted.ts,
            "text": posted.text,
            "blocks": posted.blocks,
        }
        if posted.thread_ts:
            message["thread_ts"] = posted.thread_ts
        return _ok(channel=posted.channel, ts=posted.ts, message=message)

    def _post_ephemeral(self, params: JSONDict) -> web.Response:
        problem = self._message_problem(params)
        if problem is not None:
            return problem
        if not params.get("user"):
            return _error("user_not_found")
        posted = self._record("ephemeral", params)
        return _ok(message_ts=posted.ts)

    def _update(self, params: JSONDict) -> web.Response:
        problem = self._message_problem(params)
        if problem is not None:
            return problem
        ts = str(params.get("ts") or "")
        if not any(p.ts == ts for p in self.messages(str(params.get("channel")))):
            return _error("message_not_found")
        self._record("update", params, ts=ts)
        return _ok(channel=params["channel"], ts=ts, text=params.get("text", ""))

    def _users_info(self, params: JSONDict) -> web.Response:
        with self._lock:
            user = self._state.users.get(str(params.get("user", "")))
        if user is None:
            return _error("user_not_found")
        return _ok(user=user)

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        posted = Posted(
            kind="response",
            channel="",
            ts="",
            text=str(body.get("text") or ""),
            blocks=list(body.get("blocks") or []),
            thread_ts=body.get("thread_ts"),
            body=body,
            at=time.monotonic(),
        )
        problems = block_problems(posted.blocks) if posted.blocks else []
        if problems:
            return web.Response(status=400, text="invalid_blocks")
        with self._lock:
            self._state.posted.append(posted)
        return web.Response(text="ok")

    async def _webhook(self, request: web.Request) -> web.Response:
        secret = request.match_info["secret"]
        with self._lock:
            channel = self._state.webhooks.get(secret)
            queue = self._state.webhook_failures.get(secret)
            failure = queue.pop(0) if queue else None
        if failure is not None:
            status, text, headers = failure
            return web.Response(status=status, text=text, headers=headers)
        if channel is None:
            return web.Response(status=404, text="no_service")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="invalid_payload")
        if not body.get("text") and not body.get("blocks"):
            return web.Response(status=400, text="no_text")
        if body.get("blocks") and block_problems(body["blocks"]):
            return web.Response(status=400, text="invalid_blocks")
        self._record("webhook", {**body, "channel": channel})
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)  # one-use
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {
                        "host": "applink-fake",
                        "build_number": 14,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )
        self.connected.set()
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._on_ack(json.loads(msg.data))
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self.connected.clear()
        return ws

    def _on_ack(self, data: JSONDict) -> None:
        envelope_id = data.get("envelope_id")
        if not isinstance(envelope_id, str) or envelope_id not in self._sent_at:
            return
        latency = time.monotonic() - self._sent_at[envelope_id]
        late = latency > self.ack_deadline
        ack = Ack(envelope_id, None if late else data.get("payload"), latency, late)
        if late:
            self.late_acks.append(ack)
        self._acks[envelope_id] = ack
        waiter = self._ack_waiters.get(envelope_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(ack)


async def _params(request: web.Request) -> JSONDict:
    """Form-encoded or JSON, as the Web API accepts both; ``blocks`` in a form is JSON text."""
    raw = await request.read()
    if request.content_type == "application/json":
        data: JSONDict = json.loads(raw or b"{}")
    else:
        data = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        data.update(request.query)
    if isinstance(data.get("blocks"), str):
        try:
            data["blocks"] = json.loads(data["blocks"])
        except json.JSONDecodeError:
            data["blocks"] = "not-json"
    return data


def _with_retry_after(headers: dict[str, str]) -> dict[str, str]:
    if not any(k.lower() == "retry-after" for k in headers):
        headers["Retry-After"] = "1"
    return headers


def _ok(**fields: Any) -> web.Response:
    return web.json_response({"ok": True, **fields})


def _error(error: str, *, status: int = 200) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


@contextmanager
def serve_in_thread() -> Iterator[tuple[FakeSlack, asyncio.AbstractEventLoop]]:
    """A FakeSlack on its own event loop in a daemon thread; yields it and that loop.

    Coroutine methods must be run on that loop
    (``asyncio.run_coroutine_threadsafe(slack.send_slash(...), loop)``).
    """
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    fake = FakeSlack()

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            await fake.start()
            ready.set()

        loop.run_until_complete(boot())
        loop.run_forever()

    thread = threading.Thread(target=run, name="fake-slack", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("fake Slack did not start")
    try:
        yield fake, loop
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
