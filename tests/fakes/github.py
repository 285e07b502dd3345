"""A fake GitHub REST API (the parts policybot reads), following platform-facts §2 and §7.

Routes: ``GET /repos/{owner}/{repo}``, ``GET /repos/{owner}/{repo}/license`` and the same
under ``/repositories/{id}`` (where a renamed repo's old name redirects with 301), and the
paginated organisation listing ``GET /orgs/{org}/repos`` (``Link`` to
``/organizations/{id}/repos?...&page=N``, as GitHub sends it). Every answer
carries the ``x-ratelimit-*`` headers and a weak ETag; ``If-None-Match`` with the current
ETag gets a 304 that does not count against the limit. A request without ``User-Agent`` gets
403. The licence file comes back as GitHub sends it: base64 with a newline every 60
characters, the git blob sha, and the 5-key ``license`` object; Licensee's verdict is given by
the test (``key``), since a fake cannot run Licensee: custom licences are ``other`` /
``NOASSERTION``.

    async with FakeGitHub() as gh:
        gh.set_repo("huggingface/text-generation-inference")
        gh.set_licence("huggingface/text-generation-inference", apache_text, key="apache-2.0")
        gh.set_licence("huggingface/text-generation-inference", hfoil_text, key="other")
        gh.exhaust(reset_in=600)          # the next request hits the primary rate limit
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web

from tests.fakes.server import LocalServer

__all__ = ["KNOWN_LICENCES", "FakeGitHub", "Hit"]

# Licensee's keys → (spdx_id, name), as GitHub reports them.
KNOWN_LICENCES: dict[str, tuple[str, str]] = {
    "apache-2.0": ("Apache-2.0", "Apache License 2.0"),
    "mit": ("MIT", "MIT License"),
    "mpl-2.0": ("MPL-2.0", "Mozilla Public License 2.0"),
    "bsd-3-clause": ("BSD-3-Clause", 'BSD 3-Clause "New" or "Revised" License'),
    "agpl-3.0": ("AGPL-3.0", "GNU Affero General Public License v3.0"),
    "gpl-3.0": ("GPL-3.0", "GNU General Public License v3.0"),
    "other": ("NOASSERTION", "Other"),
}
_RATE_MESSAGE = (
    "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests "
    "get a higher rate limit. Check out the documentation for more details.)"
)


@dataclass(frozen=True, slots=True)
class Hit:
    method: str
    path: str
    headers: dict[str, str]


@dataclass(slots=True)
class _Licence:
    text: str
    key: str
    path: str


@dataclass(slots=True)
class _Repo:
    id: int
    full_name: str
    private: bool = False
    archived: bool = False
    disabled: bool = False
    licence: _Licence | None = None
    pushed_at: str = "2023-07-28T13:59:46Z"


@dataclass(slots=True)
class _Limit:
    limit: int
    remaining: int
    reset_at: int
    secondary_retry_after: int | None = None
    status: int = 403


@dataclass(slots=True)
class _Fault:
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeGitHub(LocalServer):
    def __init__(
        self, *, tokens: frozenset[str] = frozenset(), clock: Callable[[], float] = time.time
    ) -> None:
        self.url = ""
        self._clock = clock
        self._tokens = tokens
        self._repos: dict[str, _Repo] = {}  # lower-case full name → repo
        self._moved: dict[str, int] = {}  # lower-case old full name → repo id
        self._elsewhere: dict[str, str] = {}  # lower-case full name → absolute URL
        self._faults: dict[str, _Fault] = {}
        self._limits = {
            "anon": _Limit(60, 60, int(clock()) + 3600),
            "token": _Limit(5000, 5000, int(clock()) + 3600),
        }
        self._next_id = 1000
        self.requests: list[Hit] = []

    runner_options: ClassVar[dict[str, Any]] = {"shutdown_timeout": 0.5}

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        return app

    # ------------------------------------------------------------------ scripting

    def set_repo(
        self,
        full_name: str,
        *,
        private: bool = False,
        archived: bool = False,
        disabled: bool = False,
    ) -> None:
        repo = self._repos.get(full_name.lower())
        if repo is None:
            self._next_id += 1
            repo = self._repos[full_name.lower()] = _Repo(self._next_id, full_name)
        repo.private, repo.archived, repo.disabled = private, archived, disabled

    def set_licence(self, full_name: str, text: str, *, key: str, path: str = "LICENSE") -> None:
        """The repo's licence file and what Licensee makes of it (``other`` when custom)."""
        if key not in KNOWN_LICENCES:
            raise ValueError(f"unknown Licensee key {key!r}; add it to KNOWN_LICENCES")
        self._repos[full_name.lower()].licence = _Licence(text, key, path)

    def remove_licence(self, full_name: str) -> None:
        self._repos[full_name.lower()].licence = None

    def delete(self, full_name: str) -> None:
        self._repos.pop(full_name.lower())

    def rename(self, old: str, new: str) -> None:
        """Transfer/rename: the old name answers 301 to ``/repositories/{id}``."""
        repo = self._repos.pop(old.lower())
        repo.full_name = new
        self._repos[new.lower()] = repo
        self._moved[old.lower()] = repo.id

    def redirect_elsewhere(self, full_name: str, location: str) -> None:
        """``/repos/{full_name}`` (and its sub-paths) answer 302 to ``location`` + sub-path:
        a redirect to another origin, which must not receive the token."""
        self._elsewhere[full_name.lower()] = location.rstrip("/")

    def fail(self, full_name: str, status: int, times: int = 1) -> None:
        self._faults[full_name.lower()] = _Fault(status, times)

    def exhaust(self, *, reset_in: int = 3600, status: int = 403) -> None:
        """Use up the primary rate limit (anonymous and token): 403/429 until ``reset_in``."""
        for lim in self._limits.values():
            lim.remaining, lim.reset_at, lim.status = 0, int(self._clock()) + reset_in, status

    def secondary_limit(self, *, retry_after: int = 60, status: int = 403) -> None:
        """The next request hits a secondary rate limit (with ``retry-after``)."""
        for lim in self._limits.values():
            lim.secondary_retry_after, lim.status = retry_after, status

    def count(self, path: str) -> int:
        return sum(1 for hit in self.requests if hit.path == path)

    # ------------------------------------------------------------------ serving

    async def _handle(self, request: web.Request) -> web.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Hit(request.method, request.path, headers))
        if not headers.get("user-agent"):
            return _json(
                403,
                {
                    "message": "Request forbidden by administrative rules. Please make sure "
                    "your request has a User-Agent header"
                },
            )
        auth = headers.get("authorization", "")
        if auth and auth.removeprefix("Bearer ").removeprefix("token ") not in self._tokens:
            return _json(401, {"message": "Bad credentials"})
        lim = self._limits["token" if auth else "anon"]
        self._maybe_reset(lim)
        limited = self._limited(lim)
        if limited is not None:
            return limited
        listing = self._org_listing(request, lim, headers)
        if listing is not None:
            return listing
        repo, sub = self._route(request.path)
        if isinstance(repo, web.Response):
            return self._count(lim, repo, headers)
        if repo is None or (repo.private and not auth):
            return self._count(lim, _json(404, _not_found()), headers)
        fault = self._faults.get(repo.full_name.lower())
        if fault is not None and fault.times > 0:
            fault.times -= 1
            return self._count(lim, _json(fault.status, {"message": "Server Error"}), headers)
        if sub == "license":
            if repo.licence is None:
                return self._count(lim, _json(404, _not_found()), headers)
            return self._count(lim, _json(200, self._licence_body(repo)), headers)
        return self._count(lim, _json(200, self._repo_body(repo)), headers)

    def org_id(self, org: str) -> int:
        """The numeric id GitHub's next-page links use (``/organizations/{id}/repos``)."""
        return int(hashlib.sha1(org.lower().encode()).hexdigest()[:7], 16)

    def _org_listing(
        self, request: web.Request, lim: _Limit, headers: dict[str, str]
    ) -> web.Response | None:
        """``GET /orgs/{org}/repos?type=&per_page=&page=`` (also ``/organizations/{id}/repos``,
        where GitHub's ``Link`` points): repos sorted by name, 30 per page by default, at most
        100; ``Link`` with rel="next" and rel="last" while pages remain."""
        parts = [p for p in request.path.split("/") if p]
        if len(parts) != 3 or parts[0] not in ("orgs", "organizations") or parts[2] != "repos":
            return None
        owners = {r.full_name.split("/")[0] for r in self._repos.values()}
        if parts[0] == "orgs":
            org = next((o for o in owners if o.lower() == parts[1].lower()), None)
        else:
            org = next((o for o in owners if str(self.org_id(o)) == parts[1]), None)
        if org is None:
            return self._count(lim, _json(404, _not_found()), headers)
        kind = request.query.get("type", "all")
        try:
            per_page = min(100, max(1, int(request.query.get("per_page", "30"))))
            page = max(1, int(request.query.get("page", "1")))
        except ValueError:
            return self._count(lim, _json(422, {"message": "Validation Failed"}), headers)
        repos = sorted(
            (r for r in self._repos.values() if r.full_name.split("/")[0] == org),
            key=lambda r: r.full_name.lower(),
        )
        if kind == "public" or not headers.get("authorization"):
            repos = [r for r in repos if not r.private]
        elif kind == "private":
            repos = [r for r in repos if r.private]
        last = max(1, -(-len(repos) // per_page))
        body = [self._repo_body(r) for r in repos[(page - 1) * per_page : page * per_page]]
        resp = _json(200, body)
        if page < last:
            base = f"{self.url}/organizations/{self.org_id(org)}/repos?type={kind}"
            base += f"&per_page={per_page}"
            resp.headers["Link"] = (
                f'<{base}&page={page + 1}>; rel="next", <{base}&page={last}>; rel="last"'
            )
        return self._count(lim, resp, headers)

    def _route(self, path: str) -> tuple[_Repo | web.Response | None, str]:
        parts = [p for p in path.split("/") if p]
        if len(parts) in (3, 4) and parts[0] == "repos":
            name = f"{parts[1]}/{parts[2]}".lower()
            sub = parts[3] if len(parts) == 4 else ""
            if name in self._elsewhere:
                location = self._elsewhere[name] + (f"/{sub}" if sub else "")
                return web.Response(status=302, headers={"Location": location}), sub
            if name in self._moved:
                tail = f"/{sub}" if sub else ""
                location = f"{self.url}/repositories/{self._moved[name]}{tail}"
                return web.json_response(
                    {"message": "Moved Permanently", "url": location},
                    status=301,
                    headers={"Location": location},
                ), sub
            return self._repos.get(name), sub
        if len(parts) in (2, 3) and parts[0] == "repositories" and parts[1].isdigit():
            found = next((r for r in self._repos.values() if r.id == int(parts[1])), None)
            return found, parts[2] if len(parts) == 3 else ""
        return None, ""

    def _maybe_reset(self, lim: _Limit) -> None:
        if self._clock() >= lim.reset_at:
            lim.remaining, lim.reset_at = lim.limit, int(self._clock()) + 3600

    def _limited(self, lim: _Limit) -> web.Response | None:
        if lim.secondary_retry_after is not None:
            retry, lim.secondary_retry_after = lim.secondary_retry_after, None
            return _json(
                lim.status,
                {"message": "You have exceeded a secondary rate limit. Please wait a few "
                 "minutes before you try again."},
                {"retry-after": str(retry), **_rate_headers(lim)},
            )  # fmt: skip
        if lim.remaining <= 0:
            return _json(lim.status, {"message": _RATE_MESSAGE}, _rate_headers(lim))
        return None

    def _count(self, lim: _Limit, resp: web.Response, headers: dict[str, str]) -> web.Response:
        """Conditional requests: a matching ETag is a free 304; anything else costs one."""
        etag = None
        if resp.status == 200 and resp.body is not None:
            etag = f'W/"{hashlib.sha256(bytes(resp.body)).hexdigest()[:32]}"'  # type: ignore[arg-type]
            resp.headers["ETag"] = etag
        if etag is not None and headers.get("if-none-match") == etag:
            return web.Response(status=304, headers={"ETag": etag, **_rate_headers(lim)})
        lim.remaining -= 1
        resp.headers.update(_rate_headers(lim))
        return resp

    def _repo_body(self, repo: _Repo) -> dict[str, Any]:
        owner, name = repo.full_name.split("/")
        lic = repo.licence
        return {
            "id": repo.id,
            "node_id": base64.b64encode(f"010:Repository{repo.id}".encode()).decode(),
            "name": name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": {"login": owner, "id": repo.id * 7, "type": "Organization"},
            "html_url": f"https://github.com/{repo.full_name}",
            "description": None,
            "fork": False,
            "url": f"{self.url}/repos/{repo.full_name}",
            "created_at": "2022-10-15T10:00:00Z",
            "updated_at": "2024-04-08T13:06:16Z",
            "pushed_at": repo.pushed_at,
            "default_branch": "main",
            "archived": repo.archived,
            "disabled": repo.disabled,
            "visibility": "private" if repo.private else "public",
            "license": _licence_simple(lic.key) if lic else None,
        }

    def _licence_body(self, repo: _Repo) -> dict[str, Any]:
        lic = repo.licence
        assert lic is not None
        data = lic.text.encode()
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        encoded = base64.b64encode(data).decode()
        content = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
        api = f"{self.url}/repos/{repo.full_name}/contents/{lic.path}?ref=main"
        html = f"https://github.com/{repo.full_name}/blob/main/{lic.path}"
        git = f"{self.url}/repos/{repo.full_name}/git/blobs/{sha}"
        return {
            "name": lic.path.rsplit("/", 1)[-1],
            "path": lic.path,
            "sha": sha,
            "size": len(data),
            "url": api,
            "html_url": html,
            "git_url": git,
            "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/main/{lic.path}",
            "type": "file",
            "content": content,
            "encoding": "base64",
            "_links": {"self": api, "git": git, "html": html},
            "license": _licence_simple(lic.key),
        }


def _licence_simple(key: str) -> dict[str, Any]:
    spdx, name = KNOWN_LICENCES[key]
    return {
        "key": key,
        "name": name,
        "spdx_id": spdx,
        "url": None if key == "other" else f"https://api.github.com/licenses/{key}",
        "node_id": base64.b64encode(f"07:License{len(key)}".encode()).decode(),
    }


def _not_found() -> dict[str, str]:
    return {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/licenses/licenses#get-the-license-for-a-repository",
    }


def _rate_headers(lim: _Limit) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(lim.limit),
        "x-ratelimit-remaining": str(max(0, lim.remaining)),
        "x-ratelimit-used": str(lim.limit - max(0, lim.remaining)),
        "x-ratelimit-reset": str(lim.reset_at),
        "x-ratelimit-resource": "core",
    }


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )
