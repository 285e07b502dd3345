"""A fake Hugging Face Hub API server that the real `huggingface_hub.HfApi` talks to.

Why a real server and not a mock: huggingface_hub 2.x speaks httpx2, which respx and pytest-httpx
do not intercept, and what we care about (error headers, redirects, pagination, timeouts) happens
in the client's own HTTP handling. So this is an aiohttp app on 127.0.0.1 whose answers follow
`../shared/platform-facts.md` section 1 and the recordings in `../shared/corpus/hub-api/`.

Tests change the scripted state between checks::

    async with FakeHub() as hub:
        hub.set_repo("org/x", license="mit")
        api = HfApi(endpoint=hub.url, token=False)
        info = await asyncio.to_thread(api.model_info, "org/x", timeout=5)
        hub.set_repo("org/x", license="other", license_name="hfoil-1.0")  # new commit, new sha
        hub.fail("org/x", 500)  # the next request for org/x gets a 500

Every state method takes a lock, so a server running in another thread (`serve_in_thread`) can be
changed from the test's thread. `python -m tests.fakes.hub --port 8765 --models 1000` serves
generated models until killed (for benchmarks and subprocess tests).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import copy
import hashlib
import html
import json
import signal
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, ClassVar, Literal
from urllib.parse import quote, unquote

from aiohttp import web

from tests.fakes.server import LocalServer

__all__ = ["FakeHub", "RecordedRequest", "populate_bench", "serve_in_thread"]

JSONDict = dict[str, Any]
RepoType = Literal["model", "dataset", "space"]

_PLURAL: dict[str, RepoType] = {"models": "model", "datasets": "dataset", "spaces": "space"}
# The exact text huggingface_hub maps to DisabledRepoError.
DISABLED_MESSAGE = "Access to this resource is disabled."
NOT_FOUND_MESSAGE = "Repository not found"

# Keys of a list item when the caller passes neither `expand` nor `full`. A real listing is much
# thinner than the info document (models and spaces carry no cardData, gated or sha), so a client
# that needs licence or gating from a listing must ask with `expand`. These sets are our best
# knowledge of the live Hub, not recorded data.
_LIST_KEYS: dict[RepoType, tuple[str, ...]] = {
    "model": (
        "_id", "id", "likes", "trendingScore", "private", "downloads", "tags",
        "pipeline_tag", "library_name", "createdAt", "modelId",
    ),
    "dataset": (
        "_id", "id", "author", "sha", "lastModified", "private", "gated", "disabled",
        "downloads", "likes", "tags", "createdAt",
    ),
    "space": ("_id", "id", "likes", "trendingScore", "private", "sdk", "tags", "createdAt"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake received it, so tests can assert on what the client really sent.

    `path` is the raw path (percent-encoding kept, e.g. `refs%2Fpr%2F1`) without the query.
    `query` keeps repeated keys in order (`[("expand", "gated"), ("expand", "cardData")]`).
    `headers` has lower-case names; repeated headers are joined with ", ".
    """

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]

    def query_values(self, key: str) -> list[str]:
        """All values sent for `key`, in order (for repeated keys such as `expand`)."""
        return [v for k, v in self.query if k == key]


@dataclass(slots=True)
class _Script:
    """A scripted answer for the next `times` requests to one repo (or one author listing)."""

    kind: Literal["fail", "garbage", "delay"]
    times: int
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0


@dataclass(slots=True)
class _Repo:
    """Scripted state of one repo: the current info document and its history."""

    body: JSONDict | None = None
    # (commit item, info document at that commit), oldest first.
    commits: list[tuple[JSONDict, JSONDict]] = field(default_factory=list)
    gone_status: int | None = None  # 401 or 404 once removed (deleted or made private)
    disabled: bool = False  # answer 403 "Access to this resource is disabled."
    last_modified: datetime | None = None
    # The repo's files at each commit sha (a commit carries the files of the one before).
    files: dict[str, dict[str, _File]] = field(default_factory=dict)
    granted: set[str] = field(default_factory=set)  # tokens granted access to a gated repo


@dataclass(frozen=True, slots=True)
class _File:
    """One file of a repo: its bytes, and whether it is stored with LFS (then the Hub sends
    `X-Linked-Etag`/`X-Linked-Size`, the sha256 and size of the real content)."""

    content: bytes
    lfs: bool = False


@dataclass(slots=True)
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    etag: bool = False


def _dumps(obj: Any) -> bytes:
    """Compact JSON, as the Hub sends it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _iso(ts: datetime) -> str:
    """`2024-05-01T12:00:00.000Z`, the Hub's timestamp format."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _etag(body: bytes) -> str:
    """Express's weak ETag, `W/"<len hex>-<27 chars of base64 sha1>"`, as the recordings show."""
    digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]
    return f'W/"{len(body):x}-{digest}"'


def _error(status: int, message: str, *, code: str | None = None) -> _Reply:
    """A Hub error: the message in `X-Error-Message` and `{"error": ...}` (clients read both)."""
    headers = {"X-Error-Message": message}
    if code is not None:
        headers["X-Error-Code"] = code
    return _Reply(status, _dumps({"error": message}), headers)


def _query_string(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in pairs)


def _licence_ids(license: str | list[str] | None) -> list[str]:
    if license is None:
        return []
    return [license] if isinstance(license, str) else list(license)


def _describe_licence(card: JSONDict | None) -> str:
    """`mit`, `other (hfoil-1.0)` or `none`: how a commit title names the licence."""
    ids = _licence_ids((card or {}).get("license"))
    text = ", ".join(ids) if ids else "none"
    name = (card or {}).get("license_name")
    return f"{text} ({name})" if name else text


def _select(body: JSONDict, keys: list[str]) -> JSONDict:
    """With `expand`, the Hub returns only `_id`, `id` and the requested keys the repo has."""
    return {k: body[k] for k in dict.fromkeys(["_id", "id", *keys]) if k in body}


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        return int(number) if prefix == "offset" and int(number) >= 0 else None
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None


class FakeHub(LocalServer):
    """A local Hub API: scripted repos, scripted failures, and a record of every request.

    Routes: `GET /api/{models,datasets,spaces}/{repo_id}[/revision/{rev}]`,
    `.../{repo_id}/commits/{rev}`, and the listings `GET /api/{models,datasets,spaces}?author=X`.
    Repo ids may be `owner/name` or a legacy single name (`bert-base-uncased`).
    """

    def __init__(self, *, page_size: int = 100, host: str = "127.0.0.1", port: int = 0) -> None:
        """`page_size` caps a listing page (the live value is unknown); port 0 picks a free one."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.url = ""
        self.bind = (host, port)
        self._lock = threading.RLock()
        self._repos: dict[tuple[RepoType, str], _Repo] = {}
        self._redirects: dict[tuple[RepoType, str], str] = {}
        self._scripts: dict[tuple[RepoType, str], deque[_Script]] = {}
        self._requests: list[RecordedRequest] = []

    # ---------------------------------------------------------------- lifecycle

    # A client that gives up (timeout) cancels its delayed handler instead of leaving it to
    # hold up close(); the short shutdown_timeout bounds close() in any case.
    runner_options: ClassVar[dict[str, Any]] = {
        "handler_cancellation": True,
        "shutdown_timeout": 1.0,
    }

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    # ---------------------------------------------------------------- scripted state

    def set_repo(
        self,
        repo_id: str,
        *,
        repo_type: str = "model",
        license: str | list[str] | None = "apache-2.0",
        license_name: str | None = None,
        license_link: str | None = None,
        gated: bool | str = False,
        private: bool = False,
        disabled: bool = False,
        sha: str | None = None,
        extra: JSONDict | None = None,
    ) -> JSONDict:
        """Publish a new state of a repo as one new commit and return its info document.

        The sha is new on every call unless given. This also undoes `remove`, `disable` and
        `redirect` for the id. `gated=True` means `"auto"`. `private=True` answers anonymous
        callers 401 RepoNotFound, as the Hub does, and callers with a token 200. `disabled=True`
        only sets the JSON field (the repo still answers 200); `disable()` makes it answer 403.
        `extra` is merged over the top-level keys last (e.g. `{"cardData": {...}}`).
        """
        kind = self._kind(repo_type)
        gate = self._gate(gated)
        card: JSONDict = {}
        if license is not None:
            card["license"] = license if isinstance(license, str) else list(license)
        if license_name is not None:
            card["license_name"] = license_name
        if license_link is not None:
            card["license_link"] = license_link
        with self._lock:
            repo = self._revive(kind, repo_id)
            previous = repo.body
            clock = datetime.now(UTC)
            now = clock.replace(microsecond=clock.microsecond // 1000 * 1000)
            if repo.last_modified is not None and now <= repo.last_modified:
                now = repo.last_modified + timedelta(milliseconds=1)
            repo.last_modified = now
            seed = f"{kind}/{repo_id}#{len(repo.commits)}"
            head = sha or hashlib.sha1(seed.encode()).hexdigest()
            created = (previous or {}).get("createdAt", _iso(now))
            body = _build_body(kind, repo_id, _licence_ids(license), card, gate, private, created)
            body |= {"sha": head, "lastModified": _iso(now), "disabled": disabled}
            body.update(copy.deepcopy(extra or {}))
            before = _describe_licence(previous.get("cardData") if previous else None)
            after = _describe_licence(body.get("cardData"))
            if previous is None:
                title = f"Add README.md with license: {after}"
            elif before != after:
                title = f"Change license: {before} -> {after}"
            else:
                title = "Update README.md"
            self._commit(repo, body, head, title, _iso(now))
            return copy.deepcopy(body)

    def set_file(
        self,
        repo_id: str,
        path: str,
        content: str | bytes | None,
        *,
        repo_type: str = "model",
        lfs: bool = False,
    ) -> str:
        """Commit one file (None deletes it), as an upload does: a new commit and sha, the same
        card. Returns the new sha. The file is served at `/{repo}/resolve/{rev}/{path}`."""
        kind = self._kind(repo_type)
        data = content.encode() if isinstance(content, str) else content
        with self._lock:
            repo = self._repos.get((kind, repo_id))
            if repo is None or repo.body is None:
                raise KeyError(f"{repo_type} {repo_id!r} does not exist; call set_repo first")
            body = copy.deepcopy(repo.body)
            head = hashlib.sha1(f"{kind}/{repo_id}#{len(repo.commits)}".encode()).hexdigest()
            clock = datetime.now(UTC)
            now = clock.replace(microsecond=clock.microsecond // 1000 * 1000)
            if repo.last_modified is not None and now <= repo.last_modified:
                now = repo.last_modified + timedelta(milliseconds=1)
            repo.last_modified = now
            body |= {"sha": head, "lastModified": _iso(now)}
            verb = "Delete" if data is None else "Upload"
            self._commit(repo, body, head, f"{verb} {path}", _iso(now))
            if data is None:
                repo.files[head].pop(path, None)
            else:
                repo.files[head][path] = _File(data, lfs)
            names = [".gitattributes", "README.md", *repo.files[head]]
            body["siblings"] = [{"rfilename": f} for f in dict.fromkeys(names)]
            return head

    def grant(self, repo_id: str, token: str, repo_type: str = "model") -> None:
        """Give `token` access to a gated repo's files (an approved access request)."""
        with self._lock:
            repo = self._repos.setdefault((self._kind(repo_type), repo_id), _Repo())
            repo.granted.add(token)

    def set_raw(self, repo_id: str, body: JSONDict, repo_type: str = "model") -> None:
        """Serve `body` verbatim as the repo's info document (e.g. a recorded corpus response)."""
        kind = self._kind(repo_type)
        doc = copy.deepcopy(body)
        with self._lock:
            repo = self._revive(kind, repo_id)
            head = doc.get("sha")
            if isinstance(head, str) and (not repo.commits or repo.commits[-1][0]["id"] != head):
                date = doc.get("lastModified") or _iso(datetime.now(UTC))
                self._commit(repo, doc, head, "Update README.md", str(date))
            repo.body = doc

    def remove(self, repo_id: str, *, status: int = 401, repo_type: str = "model") -> None:
        """Make the repo missing: 401 (the anonymous Hub's answer for missing *and* private) or 404.

        Both carry `X-Error-Code: RepoNotFound`, without which huggingface_hub raises a plain
        HfHubHTTPError for an http:// endpoint. History is kept; a later `set_repo` continues it.
        """
        if status not in (401, 404):
            raise ValueError("a missing repo answers 401 or 404")
        kind = self._kind(repo_type)
        with self._lock:
            self._repos.setdefault((kind, repo_id), _Repo()).gone_status = status

    def disable(self, repo_id: str, repo_type: str = "model") -> None:
        """Answer 403 `Access to this resource is disabled.`; listings show `disabled: true`."""
        kind = self._kind(repo_type)
        with self._lock:
            repo = self._repos.get((kind, repo_id))
            if repo is None or repo.body is None:
                raise KeyError(f"{repo_type} {repo_id!r} does not exist; call set_repo first")
            repo.disabled = True
            repo.body["disabled"] = True

    def fail(
        self,
        repo_id: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        repo_type: str = "model",
    ) -> None:
        """Answer the next `times` requests for this repo with `status`.

        `repo_id` may be `"<author>/*"` to script that author's listing instead. The default body
        is `{"error": "<reason>"}`. A 429 gets `Retry-After: 0` and `RateLimit: "api";r=0;t=0`
        unless `headers` says otherwise, so the client's list retry sleeps only 1 s (t + 1).
        `headers={"X-Error-Code": "GatedRepo"}` makes a gated-repo error.
        """
        merged: dict[str, str] = {}
        if status == 429:
            merged = {
                "Retry-After": "0",
                "RateLimit": '"api";r=0;t=0',
                "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
            }
        merged.update(headers or {})
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Error"
        payload = body if body is not None else _dumps({"error": reason})
        self._script(repo_type, repo_id, _Script("fail", times, status, merged, payload))

    def garbage(self, repo_id: str, *, times: int = 1, repo_type: str = "model") -> None:
        """Answer 200 `application/json` with a truncated, non-JSON body (a cut-off response)."""
        self._script(repo_type, repo_id, _Script("garbage", times))

    def delay(
        self, repo_id: str, seconds: float, *, times: int = 1, repo_type: str = "model"
    ) -> None:
        """Wait `seconds`, then answer normally, for the next `times` requests (client timeouts)."""
        self._script(repo_type, repo_id, _Script("delay", times, seconds=seconds))

    def redirect(self, old_id: str, new_id: str, repo_type: str = "model") -> None:
        """Answer `old_id` with a 307 text/plain and a relative `Location`, like a renamed repo."""
        with self._lock:
            self._redirects[(self._kind(repo_type), old_id)] = new_id

    # ---------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def count(self, path_prefix: str) -> int:
        """How many requests hit a raw path starting with `path_prefix` (`/api/models/org/x`)."""
        with self._lock:
            return sum(1 for r in self._requests if r.path.startswith(path_prefix))

    # ---------------------------------------------------------------- internals: state

    @staticmethod
    def _kind(repo_type: str) -> RepoType:
        for kind in _PLURAL.values():
            if repo_type == kind:
                return kind
        raise ValueError(f"repo_type must be model, dataset or space, not {repo_type!r}")

    @staticmethod
    def _gate(gated: bool | str) -> bool | str:
        if gated is True:
            return "auto"
        if gated is False or gated in ("auto", "manual"):
            return gated
        raise ValueError(f'gated must be False, True, "auto" or "manual", not {gated!r}')

    def _revive(self, kind: RepoType, repo_id: str) -> _Repo:
        """The repo's state, created if new, no longer removed, disabled or redirected."""
        repo = self._repos.setdefault((kind, repo_id), _Repo())
        self._redirects.pop((kind, repo_id), None)
        repo.gone_status = None
        repo.disabled = False
        return repo

    def _script(self, repo_type: str, target: str, script: _Script) -> None:
        if script.times < 1:
            raise ValueError("times must be at least 1")
        kind = self._kind(repo_type)
        with self._lock:
            self._scripts.setdefault((kind, target), deque()).append(script)

    def _take_script(self, key: tuple[RepoType, str]) -> _Script | None:
        with self._lock:
            queue = self._scripts.get(key)
            if not queue:
                return None
            script = queue[0]
            script.times -= 1
            if script.times == 0:
                queue.popleft()
            return script

    @staticmethod
    def _commit(repo: _Repo, body: JSONDict, head: str, title: str, date: str) -> None:
        author = body.get("author") or "system"
        commit = {
            "id": head,
            "title": title,
            "message": "",
            "date": date,
            "authors": [{"user": author}],
        }
        previous = repo.commits[-1][0]["id"] if repo.commits else None
        repo.files[head] = dict(repo.files.get(previous, {})) if previous else {}
        repo.commits.append((commit, copy.deepcopy(body)))
        repo.body = body

    # ---------------------------------------------------------------- internals: HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.raw_path
        query = list(request.rel_url.query.items())
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            low = name.lower()
            headers[low] = f"{headers[low]}, {value}" if low in headers else value
        with self._lock:
            self._requests.append(RecordedRequest(request.method, path, query, headers))

        reply = await self._answer(request, path, query, headers)
        if reply.etag and reply.status == 200:
            # Express (which serves the Hub) answers a matching If-None-Match with 304.
            tag = _etag(reply.body)
            reply.headers["ETag"] = tag
            if tag in [t.strip() for t in headers.get("if-none-match", "").split(",")]:
                return web.Response(status=304, headers=reply.headers)
        trace = headers.get("x-amzn-trace-id") or str(uuid.uuid4())
        request_id = f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};{trace}"
        reply.headers.setdefault("X-Request-Id", request_id)
        reply.headers.setdefault("X-Powered-By", "huggingface-moon")
        reply.headers["Content-Type"] = reply.content_type
        if request.method == "HEAD":  # the headers a GET would send, no body
            return web.Response(status=reply.status, headers=reply.headers)
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)

    async def _answer(
        self, request: web.Request, path: str, query: list[tuple[str, str]], headers: dict[str, str]
    ) -> _Reply:
        segments = path.split("/")
        if "resolve" in segments[2:] and segments[1] != "api":
            if request.method not in ("GET", "HEAD"):
                return _error(405, "Method Not Allowed")
            auth = headers.get("authorization", "")
            token = auth[7:] if auth.lower().startswith("bearer ") else None
            with self._lock:
                return self._resolve(request.method, [unquote(x) for x in segments[1:]], token)
        if len(segments) < 3 or segments[1] != "api" or segments[2] not in _PLURAL:
            return _error(404, "Not Found")
        if request.method not in ("GET", "HEAD"):
            return _error(405, "Method Not Allowed")
        kind = _PLURAL[segments[2]]
        rest = [unquote(s) for s in segments[3:] if s != ""]
        parsed = _split_repo_path(rest) if rest else None
        if rest and parsed is None:
            return _error(404, "Not Found")
        if parsed is None:
            author = dict(query).get("author")
            target = f"{author}/*" if author else "*"
        else:
            target = parsed[0]

        script = self._take_script((kind, target))
        if script is not None and script.kind == "delay":
            await asyncio.sleep(script.seconds)
        elif script is not None and script.kind == "fail":
            return _Reply(script.status, script.body, dict(script.headers))
        elif script is not None:
            cut = b'{"_id":"6698d8a0653e4babe21e1e7d","id":"' + target.encode() + b'","priv'
            return _Reply(200, cut)

        authorized = headers.get("authorization", "").lower().startswith("bearer ")
        url = str(request.url.origin()) + path
        with self._lock:
            if parsed is None:
                return self._list(kind, query, authorized, url)
            repo_id, sub, rev = parsed
            return self._repo_reply(kind, repo_id, sub, rev, query, authorized, url)

    def _repo_reply(
        self,
        kind: RepoType,
        repo_id: str,
        sub: str | None,
        rev: str | None,
        query: list[tuple[str, str]],
        authorized: bool,
        url: str,
    ) -> _Reply:
        key = (kind, repo_id)
        if key in self._redirects:
            suffix = "" if sub is None else f"/{sub}/{quote(rev or '', safe='')}"
            location = f"/api/{kind}s/{self._redirects[key]}{suffix}"
            if query:
                location += "?" + _query_string(query)
            text = f"Temporary Redirect. Redirecting to {location}".encode()
            return _Reply(307, text, {"Location": location}, "text/plain; charset=utf-8")
        repo = self._repos.get(key)
        if repo is None or repo.body is None or repo.gone_status is not None:
            status = repo.gone_status if repo is not None and repo.gone_status else 401
            return _error(status, NOT_FOUND_MESSAGE, code="RepoNotFound")
        if repo.body.get("private") is True and not authorized:
            return _error(401, NOT_FOUND_MESSAGE, code="RepoNotFound")
        if repo.disabled:
            return _error(403, DISABLED_MESSAGE)

        head = len(repo.commits) - 1
        body = repo.body
        if rev is not None and rev not in ("main", "HEAD"):
            found = [
                i
                for i, (commit, _) in enumerate(repo.commits)
                if len(rev) >= 7 and commit["id"].startswith(rev)
            ]
            if not found:
                return _error(404, f"Invalid rev id: {rev}", code="RevisionNotFound")
            head = found[-1]
            body = repo.commits[head][1]

        if sub == "commits":
            formatted = "formatted" in _expand_values(query)
            items = []
            for commit, _ in reversed(repo.commits[: head + 1]):
                item = dict(commit)
                if formatted:
                    item["formatted"] = {"title": html.escape(commit["title"]), "message": ""}
                items.append(item)
            return self._page(items, query, url)

        expand = _expand_for(kind, query)
        return _Reply(200, _dumps(_select(body, expand) if expand else body), etag=True)

    def _resolve(self, method: str, parts: list[str], token: str | None) -> _Reply:
        """`[datasets|spaces/]{repo_id}/resolve/{rev}/{path}`: one file at one revision, with
        the headers `get_hf_file_metadata` reads (platform-facts 1.8): `X-Repo-Commit`, `ETag`
        (the git blob id, or for LFS the sha256 in `X-Linked-Etag` with `X-Linked-Size`),
        `Content-Length`. A gated repo's files other than the card answer `GatedRepo`: 401 to
        an anonymous caller, 403 to a token that was not granted access."""
        kind: RepoType = "model"
        if parts[0] in ("datasets", "spaces"):
            kind, parts = _PLURAL[parts[0]], parts[1:]
        at = parts.index("resolve")
        repo_id, rev = "/".join(parts[:at]), "/".join(parts[at + 1 : at + 2])
        file_path = "/".join(parts[at + 2 :])
        repo = self._repos.get((kind, repo_id))
        if repo is None or repo.body is None or repo.gone_status is not None:
            status = repo.gone_status if repo is not None and repo.gone_status else 401
            return _error(status, NOT_FOUND_MESSAGE, code="RepoNotFound")
        if repo.body.get("private") is True and token is None:
            return _error(401, NOT_FOUND_MESSAGE, code="RepoNotFound")
        if repo.disabled:
            return _error(403, DISABLED_MESSAGE)
        found = [c["id"] for c, _ in repo.commits if rev in ("main", "HEAD") or c["id"] == rev]
        if not found or not file_path:
            return _error(404, f"Invalid rev id: {rev}", code="RevisionNotFound")
        sha = found[-1]
        gated = repo.body.get("gated") in ("auto", "manual")
        if gated and file_path != "README.md" and token not in repo.granted:
            what = f"Access to model {repo_id} is restricted"
            if token is None:
                message = f"{what}. You must have access to it and be authenticated to access it."
                return _error(401, message, code="GatedRepo")
            return _error(403, f"{what} and you are not in the authorized list.", code="GatedRepo")
        file = repo.files.get(sha, {}).get(file_path)
        if file is None:
            return _error(404, "Entry not found", code="EntryNotFound")
        blob = hashlib.sha1(b"blob %d\0" % len(file.content) + file.content).hexdigest()
        headers = {"X-Repo-Commit": sha, "ETag": f'"{blob}"', "Accept-Ranges": "bytes"}
        if file.lfs:
            headers["X-Linked-Etag"] = f'"{hashlib.sha256(file.content).hexdigest()}"'
            headers["X-Linked-Size"] = str(len(file.content))
        body = b"" if method == "HEAD" else file.content
        reply = _Reply(200, body, headers, "text/plain; charset=utf-8")
        if method == "HEAD":
            reply.headers["Content-Length"] = str(len(file.content))
        return reply

    def _list(
        self, kind: RepoType, query: list[tuple[str, str]], authorized: bool, url: str
    ) -> _Reply:
        params = dict(query)
        author, search = params.get("author"), params.get("search", "").lower()
        expand = _expand_for(kind, query)
        flags = ("True", "true", "1")
        items: list[JSONDict] = []
        for (k, repo_id), repo in sorted(self._repos.items(), key=lambda kv: kv[0][1]):
            body = repo.body
            if k != kind or body is None or repo.gone_status is not None:
                continue
            if (k, repo_id) in self._redirects:
                continue
            if body.get("private") is True and not authorized:
                continue
            owner = body.get("author") or (repo_id.split("/")[0] if "/" in repo_id else None)
            if (author is not None and owner != author) or search not in repo_id.lower():
                continue
            if expand:
                items.append(_select(body, expand))
            elif params.get("full") in flags:
                items.append(body)
            else:
                card = ["cardData"] if params.get("cardData") in flags else []
                items.append(_select(body, [*_LIST_KEYS[kind], *card]))
        return self._page(items, query, url)

    def _page(self, items: list[JSONDict], query: list[tuple[str, str]], url: str) -> _Reply:
        """One page; `Link: <absolute next url>; rel="next"` carries the whole query + a cursor."""
        params = dict(query)
        size = self.page_size
        if params.get("limit", "").isdigit() and int(params["limit"]) > 0:
            size = min(size, int(params["limit"]))
        offset = 0
        if "cursor" in params:
            decoded = _decode_cursor(params["cursor"])
            if decoded is None:
                return _error(400, "Invalid cursor")
            offset = decoded
        headers: dict[str, str] = {}
        if offset + size < len(items):
            pairs = [(k, v) for k, v in query if k != "cursor"]
            pairs.append(("cursor", _encode_cursor(offset + size)))
            headers["Link"] = f'<{url}?{_query_string(pairs)}>; rel="next"'
        return _Reply(200, _dumps(items[offset : offset + size]), headers, etag=True)


def _split_repo_path(rest: list[str]) -> tuple[str, str | None, str | None] | None:
    """`org/x`, `name`, `org/x/revision/<rev>`, `name/commits/<rev>` → (repo_id, sub, rev)."""
    for n in (2, 1):
        if len(rest) == n:
            return "/".join(rest), None, None
        if len(rest) >= n + 2 and rest[n] in ("revision", "commits"):
            return "/".join(rest[:n]), rest[n], "/".join(rest[n + 1 :])
    return None


def _expand_values(query: list[tuple[str, str]]) -> list[str]:
    """Values of repeated `expand=` (what httpx sends) and `expand[]=` (the bracket form)."""
    return [v for k, v in query if k in ("expand", "expand[]")]


def _expand_for(kind: RepoType, query: list[tuple[str, str]]) -> list[str]:
    """The requested properties; spaces have no `gated` property, so it is ignored for them."""
    return [v for v in _expand_values(query) if not (kind == "space" and v == "gated")]


def _build_body(
    kind: RepoType,
    repo_id: str,
    licence_ids: list[str],
    card: JSONDict,
    gated: bool | str,
    private: bool,
    created: str,
) -> JSONDict:
    """An info document with the fields and key order of the recorded responses.

    The caller adds sha, lastModified and disabled.
    """
    author = repo_id.split("/")[0] if "/" in repo_id else None
    object_id = hashlib.sha1(f"{kind}/{repo_id}".encode()).hexdigest()[:24]
    licence_tags = [f"license:{i}" for i in licence_ids]
    files = [".gitattributes", "README.md"]
    if card.get("license_link") == "LICENSE" or card.get("license") == "other":
        files.append("LICENSE")
    body: JSONDict = {"_id": object_id, "id": repo_id, "private": private}
    if kind == "model":
        body |= {
            "pipeline_tag": "text-generation",
            "library_name": "transformers",
            "tags": ["transformers", "safetensors", "llama", *licence_tags, "region:us"],
            "downloads": 1234,
            "likes": 56,
            "modelId": repo_id,
        }
        files += ["config.json", "model.safetensors"]
    elif kind == "dataset":
        body |= {
            "tags": ["size_categories:1K<n<10K", "format:parquet", *licence_tags, "region:us"],
            "downloads": 789,
            "likes": 12,
        }
        files += ["data/train-00000-of-00001.parquet"]
    else:
        subdomain = repo_id.replace("/", "-").replace("_", "-").replace(".", "-").lower()
        body |= {
            "tags": ["gradio", *licence_tags, "region:us"],
            "likes": 3,
            "sdk": "gradio",
            "subdomain": subdomain,
            "host": f"https://{subdomain}.hf.space",
            "runtime": {
                "stage": "RUNNING",
                "hardware": {"current": "cpu-basic", "requested": "cpu-basic"},
                "storage": None,
                "gcTimeout": 172800,
                "replicas": {"current": 1, "requested": 1},
                "devMode": False,
                "domains": [{"domain": f"{subdomain}.hf.space", "stage": "READY"}],
            },
        }
        files += ["app.py", "requirements.txt"]
    if author is not None:
        body["author"] = author
    body |= {"sha": "", "lastModified": "", "gated": gated, "disabled": False}
    if card:
        body["cardData"] = card
    body["siblings"] = [{"rfilename": f} for f in files]
    body["createdAt"] = created
    body["usedStorage"] = 4096
    return body


@contextmanager
def serve_in_thread(hub: FakeHub | None = None) -> Iterator[FakeHub]:
    """Run a FakeHub on its own event loop in a daemon thread, for synchronous callers.

    The state methods (`set_repo`, `fail`, ...) take a lock, so calling them from the caller's
    thread while the server answers requests is safe.
    """
    hub = hub if hub is not None else FakeHub()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(hub.start())
        except BaseException as exc:
            errors.append(exc)
            loop.close()
            started.set()
            return
        started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(hub.close())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name="fake-hub", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the fake hub did not start within 10 s")
    if errors:
        thread.join()
        raise errors[0]
    try:
        yield hub
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


_BENCH_LICENCES: list[tuple[str, str | None]] = [
    ("apache-2.0", None),
    ("mit", None),
    ("llama3.1", None),
    ("other", "hfoil-1.0"),
    ("cc-by-nc-4.0", None),
]


def populate_bench(hub: FakeHub, models: int) -> None:
    """`bench-org/model-00000`, ...: a spread of licences, every 10th gated "manual"."""
    for i in range(models):
        licence, name = _BENCH_LICENCES[i % len(_BENCH_LICENCES)]
        hub.set_repo(
            f"bench-org/model-{i:05d}",
            license=licence,
            license_name=name,
            gated="manual" if i % 10 == 9 else False,
        )


async def _serve_until_stopped(args: argparse.Namespace) -> None:
    hub = FakeHub(page_size=args.page_size, host=args.host, port=args.port)
    populate_bench(hub, args.models)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with hub:
        print(hub.url, flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.fakes.hub --port 8765 --models 1000`: serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description="Serve a fake Hugging Face Hub API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--models", type=int, default=0, help="how many bench-org models")
    parser.add_argument("--page-size", type=int, default=100)
    asyncio.run(_serve_until_stopped(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
