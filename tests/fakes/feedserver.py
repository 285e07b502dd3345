"""A fake web server for feeds: real HTTP on 127.0.0.1 that the bot's own client talks to.

It behaves like the servers feeds live on (platform-facts §5 and §7.5): it sends ``ETag`` and
``Last-Modified`` and answers a matching ``If-None-Match`` / ``If-Modified-Since`` with 304;
it can send wrong content types, empty bodies, HTML instead of a feed, endless bodies, errors
and redirects; and it records every request so tests can count fetches and read the
conditional headers the bot sent. Corpus files from feedparser's own tests carry
``Header: Content-type: …`` lines; :meth:`FeedServer.serve_file` sends that as the HTTP
Content-Type (default ``text/xml``), like feedparser's test harness does.

It also takes webhook POSTs (``/hook/<name>``), so a test can subscribe a second channel
(``webhook:<url>``) and read exactly what that channel received::

    async with FeedServer() as web:
        web.set("/blog.xml", rss([item("a", "First post")]))
        ...
        web.count("/blog.xml"), web.hooked("team-b")
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape

from aiohttp import web

from tests.fakes.server import LocalServer

__all__ = ["FeedServer", "Seen", "atom", "entry", "file_content_type", "insert", "item", "rss"]

_HEADER_LINE = re.compile(rb"Header:\s*Content-type:\s*([^\r\n]+)", re.I)


def file_content_type(body: bytes) -> str:
    """The Content-Type a feedparser test file asks for (``text/xml`` when it says nothing)."""
    match = _HEADER_LINE.search(body[:2000])
    return match.group(1).decode("latin-1").strip() if match else "text/xml"


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the server received it (header names lower-case)."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass(slots=True)
class _Doc:
    body: bytes
    content_type: str
    validators: bool
    etag: str
    last_modified: datetime


@dataclass(slots=True)
class _Script:
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class FeedServer(LocalServer):
    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Seen] = []
        self._docs: dict[str, _Doc] = {}
        self._scripts: dict[str, list[_Script]] = {}
        self._endless: dict[str, int] = {}
        self._redirects: dict[str, str] = {}
        self._hooks: dict[str, list[dict[str, Any]]] = {}
        self._clock = datetime(2026, 1, 1, tzinfo=UTC)

    # -- lifecycle ---------------------------------------------------------------------

    runner_options: ClassVar[dict[str, Any]] = {"shutdown_timeout": 1.0}

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    # -- scripted state ----------------------------------------------------------------

    def set(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        validators: bool = True,
    ) -> str:
        """Serve ``body`` at ``path`` from now on; returns the full URL. Each new body gets a
        new ETag and a Last-Modified one minute later than the previous one."""
        data = body.encode() if isinstance(body, str) else body
        self._clock += timedelta(minutes=1)
        etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
        self._docs[path] = _Doc(data, content_type, validators, etag, self._clock)
        self._endless.pop(path, None)
        return self.url + path

    def serve_file(self, path: str, file: Path, *, validators: bool = True) -> str:
        body = file.read_bytes()
        return self.set(path, body, content_type=file_content_type(body), validators=validators)

    def fail(
        self,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        """The next ``times`` requests for ``path`` get ``status`` instead of the document."""
        self._scripts.setdefault(path, []).append(_Script(status, times, headers or {}, body))

    def endless(self, path: str, size: int) -> str:
        """Serve a feed-looking body of ``size`` bytes, streamed without a Content-Length."""
        self._endless[path] = size
        return self.url + path

    def redirect(self, path: str, to: str) -> str:
        self._redirects[path] = to
        return self.url + path

    # -- what happened -----------------------------------------------------------------

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def last(self, path: str) -> Seen:
        return [r for r in self.requests if r.path == path][-1]

    def hook_url(self, name: str) -> str:
        return f"{self.url}/hook/{name}"

    def hooked(self, name: str) -> list[dict[str, Any]]:
        """The alerts (``Alert.to_json`` shape) the webhook channel ``name`` received."""
        return [post["alert"] for post in self._hooks.get(name, [])]

    # -- serving -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append(
            Seen(request.method, path, {k.lower(): v for k, v in request.headers.items()})
        )
        if path.startswith("/hook/") and request.method == "POST":
            self._hooks.setdefault(path[6:], []).append(json.loads(await request.read()))
            return web.Response(status=204)
        scripts = self._scripts.get(path)
        if scripts:
            script = scripts[0]
            script.times -= 1
            if script.times <= 0:
                scripts.pop(0)
            return web.Response(status=script.status, headers=script.headers, body=script.body)
        if path in self._redirects:
            raise web.HTTPFound(self._redirects[path])
        if path in self._endless:
            return await self._stream(request, self._endless[path])
        doc = self._docs.get(path)
        if doc is None:
            return web.Response(status=404, text="not found", content_type="text/html")
        headers = {"Content-Type": doc.content_type}
        if doc.validators:
            headers["ETag"] = doc.etag
            headers["Last-Modified"] = format_datetime(doc.last_modified, usegmt=True)
            if _not_modified(request, doc):
                return web.Response(status=304, headers={"ETag": doc.etag})
        return web.Response(status=200, body=doc.body, headers=headers)

    async def _stream(self, request: web.Request, size: int) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>'
        await resp.write(head)
        chunk = item("x", "padding", summary="y" * 60_000)
        sent = len(head)
        try:
            while sent < size:
                await resp.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, RuntimeError):
            return resp  # the client stopped reading at its cap: that is the point
        await resp.write_eof()
        return resp


def _not_modified(request: web.Request, doc: _Doc) -> bool:
    """RFC 9110: If-None-Match wins; If-Modified-Since only counts without it."""
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        return doc.etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            return doc.last_modified <= parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
    return False


# -- documents ------------------------------------------------------------------------


def item(
    guid: str | None,
    title: str,
    *,
    link: str | None = None,
    summary: str = "",
    date: str | None = "Mon, 05 Jan 2026 09:00:00 GMT",
) -> bytes:
    """One RSS 2.0 ``<item>`` (``guid=None`` leaves the guid out, like HN or PyPI)."""
    parts = [f"<title>{escape(title)}</title>"]
    if link:
        parts.append(f"<link>{escape(link)}</link>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    if summary:
        parts.append(f"<description>{escape(summary)}</description>")
    return ("<item>" + "".join(parts) + "</item>").encode()


def rss(items: Sequence[bytes], *, title: str = "Example Blog") -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        + f"<title>{escape(title)}</title><link>https://blog.example/</link>".encode()
        + b"".join(items)
        + b"</channel></rss>"
    )


def entry(ident: str, title: str, *, link: str, summary: str = "", updated: str) -> bytes:
    """One Atom ``<entry>``."""
    return (
        f"<entry><id>{escape(ident)}</id><title>{escape(title)}</title>"
        f'<link href="{escape(link)}"/><updated>{updated}</updated>'
        f'<summary type="html">{escape(summary)}</summary></entry>'
    ).encode()


def atom(entries: Sequence[bytes], *, title: str = "Example Atom") -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        + f"<title>{escape(title)}</title><id>urn:example:feed</id>".encode()
        + b"<updated>2026-01-05T09:00:00Z</updated>"
        + b"".join(entries)
        + b"</feed>"
    )


def insert(feed: bytes, *elements: bytes) -> bytes:
    """A real feed with ``elements`` added before its first item/entry (where new posts go)."""
    match = re.search(rb"<(item|entry)[\s>]", feed)
    if match is None:
        raise ValueError("no <item> or <entry> to insert before")
    return feed[: match.start()] + b"".join(elements) + feed[match.start() :]
