"""GitHub repositories (``github:owner/repo``): the licence GitHub detects, and whether the
repo is archived, private or disabled.

Two REST calls per check, each conditional on its stored ETag (a 304 costs nothing against
GitHub's rate limit, platform-facts 2.2): ``GET /repos/{o}/{r}`` and
``GET /repos/{o}/{r}/license``. Facts reuse the repository shape of :mod:`bot.detect.repo`, so
licence and access changes are decided exactly as for the Hub. GitHub reports custom licences
(HFOIL, BUSL, RSALv2) as ``other``/``NOASSERTION``: those are named from the LICENSE text
(:func:`bot.licences.classify.name_text`), else called a custom licence with its first heading. The
text itself is kept in the facts, so a rewrite under the same licence is a ``content`` change
with a diff, judged by :mod:`bot.licences.full_text` (every term and figure counts; copyright years
and release versions do not).

A rate-limit answer pauses every request to the API host until the reset time GitHub gave
(source-level state shared by all targets) and fails the check with ``RateLimited``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.alerts.compose import yes_no
from bot.detect.history import History
from bot.detect.repo import detect_repo
from bot.domain.errors import FailureReason, RateLimited, SourceError, http_reason
from bot.domain.facts import GithubFacts
from bot.domain.model import (
    Change,
    ChangeKind,
    FetchResult,
    Gone,
    Link,
    NotModified,
    Observation,
    TargetRef,
    Validators,
)
from bot.i18n import joined, msg
from bot.licences.classify import LicenceSet, classify_hub, name_text
from bot.licences.full_text import RULES_KEY, RULES_VERSION, text_change
from bot.net import Fetched, Guard, HttpClient, Limits, retry_after_seconds, status_error
from bot.text.diff import paragraphs

log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
_NO_ID = frozenset({"", "other", "noassertion"})
_MAX_ETAGS = 512  # the targets.etag column


class GitHubSource:
    kind = "github"

    def __init__(
        self,
        api_url: str,
        token: str | None,
        limits: Limits,
        concurrency: int,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._limits = limits
        self._slots = asyncio.Semaphore(concurrency)
        self._now = wall_clock
        self._paused_until = 0.0  # wall-clock epoch seconds; the whole API host waits
        # The operator's API URL, not a user's: any address. The token goes per request, so
        # a redirect to another origin never carries it.
        self._http = HttpClient(Guard(allow_private=True), limits)

    def label(self, ref: TargetRef) -> str:
        return msg("GitHub repository")

    def links(self, ref: TargetRef, evidence: Mapping[str, Any]) -> list[Link]:
        out = [
            Link(
                msg("Repository"),
                str(evidence.get("html_url") or f"https://github.com/{ref.locator}"),
            )
        ]
        if evidence.get("licence_url"):
            out.append(Link(msg("Licence file"), str(evidence["licence_url"])))
        return out

    async def fetch(
        self, ref: TargetRef, validators: Validators, options: Mapping[str, Any]
    ) -> FetchResult:
        repo_etag, licence_etag = _unpack_etags(validators.etag)
        async with self._slots:
            repo = await self._get(f"/repos/{ref.locator}", repo_etag)
            if repo.status in (404, 451):
                return Gone(
                    msg("HTTP {status}: repository not found or private", status=str(repo.status))
                )
            licence = await self._get(f"/repos/{ref.locator}/license", licence_etag)
            if repo.not_modified and licence.not_modified:
                return NotModified(validators)
            # One half changed: the other is needed in full to build the facts.
            if repo.not_modified:
                repo = await self._get(f"/repos/{ref.locator}", None)
            if licence.not_modified:
                licence = await self._get(f"/repos/{ref.locator}/license", None)
        return _observation(repo, licence)

    async def _get(self, path: str, etag: str | None) -> Fetched:
        """One API call; a rate-limit answer pauses the host and raises ``RateLimited``."""
        wait = self._paused_until - self._now()
        if wait > 0:
            raise RateLimited(
                _paused_message(wait), reason=FailureReason.RATE_LIMITED, retry_after=wait
            )
        got = await self._http.fetch(
            self.api_url + path,
            validators=Validators(etag=etag),
            headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
            credentials={"Authorization": f"Bearer {self._token}"} if self._token else None,
        )
        self._note_rate_limit(got)
        if got.status in (200, 304, 404, 451):
            return got
        raise self._error(got)

    def _note_rate_limit(self, got: Fetched) -> None:
        """Pause before GitHub has to refuse us: remaining 0 on a good answer waits for reset."""
        if got.headers.get("x-ratelimit-remaining") == "0" and got.status in (200, 304, 404):
            reset = _float(got.headers.get("x-ratelimit-reset"))
            if reset is not None:
                self._paused_until = max(self._paused_until, reset)

    def _error(self, got: Fetched) -> SourceError:
        message = _message(got.body)
        limited = (
            got.headers.get("x-ratelimit-remaining") == "0"
            or "retry-after" in got.headers
            or "rate limit" in message.lower()
        )
        if got.status in (403, 429) and limited:
            wait = retry_after_seconds(got.headers)
            reset = _float(got.headers.get("x-ratelimit-reset"))
            if wait is None and got.headers.get("x-ratelimit-remaining") == "0" and reset:
                wait = reset - self._now()
            wait = max(1.0, wait if wait is not None else 60.0)
            self._paused_until = max(self._paused_until, self._now() + wait)
            log.warning("GitHub rate limit reached; pausing %s for %.0f s", self.api_url, wait)
            return RateLimited(
                _paused_message(wait), reason=FailureReason.RATE_LIMITED, retry_after=wait
            )
        wording = {
            401: (msg("GitHub refused the token (HTTP 401): check GITHUB_TOKEN"), http_reason(401)),
            403: (msg("GitHub refused access (HTTP 403): {why}", why=message), http_reason(403)),
        }
        error = status_error(got.status, got.headers, site="GitHub", wording=wording)
        return error or SourceError(
            msg("GitHub answered HTTP {status}", status=str(got.status)),
            reason=FailureReason.MALFORMED,
        )

    def detect(self, prev: GithubFacts, new: GithubFacts, history: History) -> list[Change]:
        found = detect_repo(
            prev,
            new,
            earlier=history.earlier,
            prev_since=history.prev_since,
            now=history.now,
            licences=github_licences,
        )
        relicensed = any(c.kind is ChangeKind.LICENCE for c in found)
        text = _text_change(prev, new, relicensed)
        return found + ([text] if text else [])

    def describe(self, facts: GithubFacts) -> str:
        if not facts.get("exists", True):
            return msg("not reachable (deleted or private)")
        path = _licence_path(facts)
        parts = [msg("licence: {licence}", licence=github_licences(facts).describe())]
        if path:
            parts.append(msg("file: {path}", path=path))
        parts.append(msg("private: {answer}", answer=yes_no(facts.get("private"))))
        parts.append(msg("archived: {answer}", answer=yes_no(facts.get("archived"))))
        return joined(" · ", parts)

    def lines(self, facts: GithubFacts) -> list[str]:
        text = facts.get("licence_text") or ""
        return self.describe(facts).split(" · ") + ([""] if text else []) + paragraphs(text)

    async def aclose(self) -> None:
        await self._http.aclose()


def github_licences(facts: GithubFacts) -> LicenceSet:
    """The licence a GitHub repo declares: GitHub's SPDX id, else named from the text."""
    lic = facts.get("licence")
    ids = [str(i) for i in (lic.get("ids") if lic else None) or [] if str(i).strip()]
    if not lic or not ids:
        return LicenceSet(())
    if ids[0].strip().casefold() not in _NO_ID:
        return classify_hub(ids, lic.get("name"))
    text = str(facts.get("licence_text") or "")
    return LicenceSet((name_text(text, str(lic.get("path") or "") or None),))


def _licence_path(facts: GithubFacts) -> str | None:
    lic = facts.get("licence")
    return lic.get("path") if lic else None


def _text_change(prev: GithubFacts, new: GithubFacts, relicensed: bool) -> Change | None:
    """The LICENSE text diff: its own notice under the same licence, evidence for a new one."""
    if "licence_text" not in prev or "licence_text" not in new:
        return None
    old_path, new_path = _licence_path(prev), _licence_path(new)
    moved = (
        msg(" (file {old} → {new})", old=old_path, new=new_path)
        if old_path and new_path and old_path != new_path
        else ""
    )
    return text_change(
        str(prev["licence_text"] or ""),
        str(new["licence_text"] or ""),
        old_rules=prev.get(RULES_KEY),
        still=github_licences(new).describe(),
        relicensed=relicensed,
        where=moved,
    )


def _observation(repo: Fetched, licence: Fetched) -> Observation:
    data = _json(repo)
    facts: GithubFacts = {
        "exists": True,
        "id": str(data.get("full_name") or ""),
        "private": bool(data.get("private")),
        "archived": bool(data.get("archived")),
        "disabled": bool(data.get("disabled")),
        "licence": {"ids": [], "name": None, "path": None},
        "licence_text": "",
        RULES_KEY: RULES_VERSION,
    }
    evidence: dict[str, Any] = {
        "html_url": data.get("html_url"),
        "pushed_at": data.get("pushed_at"),
    }
    if licence.status == 200:
        body = _json(licence)
        lic = body.get("license") or {}
        spdx, key = str(lic.get("spdx_id") or ""), str(lic.get("key") or "")
        ident = spdx if spdx.casefold() not in _NO_ID else (key or "other")
        facts["licence"] = {"ids": [ident], "name": lic.get("name"), "path": body.get("path")}
        facts["licence_text"] = _decode_content(body)
        evidence |= {"licence_url": body.get("html_url"), "licence_sha": body.get("sha")}
    validators = Validators(etag=_pack_etags(repo.validators.etag, licence.validators.etag))
    return Observation(facts=facts, evidence=evidence, validators=validators)


def _json(got: Fetched) -> dict[str, Any]:
    try:
        data = json.loads(got.body)
    except (ValueError, UnicodeDecodeError) as e:
        raise SourceError(
            msg("GitHub sent a response that is not JSON"), reason=FailureReason.MALFORMED
        ) from e
    if not isinstance(data, dict):
        raise SourceError(
            msg("GitHub sent an unexpected JSON document"), reason=FailureReason.MALFORMED
        )
    return data


def _decode_content(body: Mapping[str, Any]) -> str:
    content = body.get("content")
    if not isinstance(content, str) or body.get("encoding", "base64") != "base64":
        raise SourceError(
            msg("GitHub sent the licence file in an unknown encoding"),
            reason=FailureReason.MALFORMED,
        )
    try:
        raw = base64.b64decode(content, validate=False)
    except (binascii.Error, ValueError) as e:
        raise SourceError(
            msg("GitHub sent a licence file that is not base64"), reason=FailureReason.MALFORMED
        ) from e
    return raw.decode("utf-8", "replace").replace("\r\n", "\n")


def _pack_etags(repo: str | None, licence: str | None) -> str | None:
    if not repo and not licence:
        return None
    packed = json.dumps([repo, licence], separators=(",", ":"))
    return packed if len(packed) <= _MAX_ETAGS else None


def _unpack_etags(stored: str | None) -> tuple[str | None, str | None]:
    try:
        repo, licence = json.loads(stored or "null") or (None, None)
    except (ValueError, TypeError):
        return None, None  # not ours (or corrupt): ask unconditionally
    return (repo if isinstance(repo, str) else None, licence if isinstance(licence, str) else None)


def _message(body: bytes) -> str:
    try:
        message = json.loads(body).get("message", "")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""
    return str(message)[:200]


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _paused_message(wait: float) -> str:
    minutes = max(1, round(wait / 60))
    return msg(
        "GitHub rate limit reached; GitHub requests wait {minutes} min for the reset "
        "(set GITHUB_TOKEN for 5,000 requests an hour)",
        minutes=minutes,
    )
