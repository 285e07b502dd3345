"""A local web server for page watches: versions with ETag/Last-Modified and 304s, redirects,
error statuses, and the hostile answers a fetcher must survive (slow-loris, huge bodies, gzip
bombs).

Tests script it between checks::

    async with FakeWeb() as web:
        web.set_page("/pricing", "<main>Pro $20</main>")     # new version: new ETag
        web.redirect("/old", "/pricing", status=301)
        web.status("/gone", 404)
        web.slow("/drip", interval=0.2)                      # one byte every 0.2 s, forever
        web.gzip_bomb("/bomb", decoded_size=64 * 2**20)

Every request is recorded (`requests`, `count`) so tests can check what the client sent, e.g.
that a conditional header was never empty.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, ClassVar

from aiohttp import web

from tests.fakes.server import LocalServer

__all__ = ["FakeWeb", "Hit"]

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Hit:
    """One request as the server saw it (header names lower-case)."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass(slots=True)
class _Route:
    kind: str  # page | redirect | status | slow | stream | bomb
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: datetime | None = None
    interval: float = 0.0
    size: int = 0


class FakeWeb(LocalServer):
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.url = ""
        self.port = 0
        self._routes: dict[str, _Route] = {}
        self._versions = 0
        self._lock = threading.Lock()
        self.requests: list[Hit] = []
        self.bind = (host, 0)

    runner_options: ClassVar[dict[str, Any]] = {
        "handler_cancellation": True,
        "shutdown_timeout": 0.5,
    }

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    # ------------------------------------------------------------------ scripting

    def set_page(
        self,
        path: str,
        body: str | bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        etag: bool | str = True,
        last_modified: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve a new version of ``path`` (a new ETag and a later Last-Modified)."""
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._versions += 1
            tag = etag if isinstance(etag, str) else f'"{hashlib.sha256(data).hexdigest()[:20]}"'
            self._routes[path] = _Route(
                "page",
                data,
                headers={"Content-Type": content_type, **(headers or {})},
                etag=tag if etag else None,
                last_modified=(_EPOCH + timedelta(hours=self._versions) if last_modified else None),
            )

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        with self._lock:
            self._routes[path] = _Route("redirect", status=status, headers={"Location": location})

    def status(
        self, path: str, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        with self._lock:
            self._routes[path] = _Route("status", body, status, dict(headers or {}))

    def slow(self, path: str, interval: float = 0.2) -> None:
        """Headers at once, then one byte every ``interval`` seconds, never finishing."""
        with self._lock:
            self._routes[path] = _Route("slow", interval=interval)

    def huge(self, path: str, size: int, *, announce: bool = False) -> None:
        """``size`` bytes of HTML, streamed (chunked), or with Content-Length if ``announce``."""
        with self._lock:
            self._routes[path] = _Route("stream", size=size, headers={"announce": str(announce)})

    def gzip_bomb(self, path: str, decoded_size: int) -> None:
        """A small gzip body that inflates to ``decoded_size`` bytes."""
        chunk = b"<p>" + b"A" * 1020 + b"</p>"
        packed = gzip.compress(chunk * (decoded_size // len(chunk)), compresslevel=9)
        with self._lock:
            self._routes[path] = _Route(
                "page",
                packed,
                headers={"Content-Type": "text/html", "Content-Encoding": "gzip"},
            )

    def count(self, path: str) -> int:
        return sum(1 for hit in self.requests if hit.path == path)

    def hits(self, path: str) -> list[Hit]:
        return [hit for hit in self.requests if hit.path == path]

    # ------------------------------------------------------------------ serving

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Hit(request.method, request.path, headers))
        with self._lock:
            route = self._routes.get(request.path_qs) or self._routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="<h1>Not Found</h1>", content_type="text/html")
        if route.kind == "redirect":
            return web.Response(status=route.status, headers=route.headers)
        if route.kind == "status":
            return web.Response(status=route.status, body=route.body, headers=route.headers)
        if route.kind == "slow":
            return await self._drip(request, route.interval)
        if route.kind == "stream":
            return await self._stream(request, route.size, route.headers["announce"] == "True")
        return self._page(route, headers)

    def _page(self, route: _Route, headers: dict[str, str]) -> web.Response:
        out = dict(route.headers)
        if route.etag:
            out["ETag"] = route.etag
        if route.last_modified:
            out["Last-Modified"] = format_datetime(route.last_modified, usegmt=True)
        if route.etag and "if-none-match" in headers:
            if route.etag in [t.strip() for t in headers["if-none-match"].split(",")]:
                return web.Response(status=304, headers=_validators_only(out))
        elif route.last_modified and "if-modified-since" in headers:
            try:
                since = parsedate_to_datetime(headers["if-modified-since"])
            except (TypeError, ValueError):
                since = None
            if since is not None and route.last_modified <= since:
                return web.Response(status=304, headers=_validators_only(out))
        return web.Response(status=200, body=route.body, headers=out)

    async def _drip(self, request: web.Request, interval: float) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        try:
            for _ in range(10_000):
                await resp.write(b"<")
                await asyncio.sleep(interval)
        except (ConnectionError, asyncio.CancelledError):
            pass
        return resp

    async def _stream(self, request: web.Request, size: int, announce: bool) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        if announce:
            resp.content_length = size
        await resp.prepare(request)
        block = (b"<p>" + b"x" * 65530 + b"</p>\n")[:65536]
        sent = 0
        try:
            while sent < size:
                part = block[: min(len(block), size - sent)]
                await resp.write(part)
                sent += len(part)
        except ConnectionError:
            pass
        return resp


def _validators_only(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}
