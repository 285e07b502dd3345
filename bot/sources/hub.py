"""Hugging Face Hub repos (models, datasets, spaces): licence, gating, visibility.

Uses the real ``huggingface_hub`` client, which is synchronous, in a bounded thread pool with
explicit timeouts (it has none by default). Only the facts that matter are compared; the
commit sha and last-modified time are evidence, so a new commit that leaves the licence alone
is not a change.

Most restrictive Hub licences are ``license: other`` with a ``license_name`` and a
``license_link`` to a file in the repo: the card's id stays the same when that text is
rewritten. So for a repo whose licence is ``other``, unknown, or links a file, the licence
file itself is read at the repo's commit (HEAD for its size, then GET, each with the timeout),
identified, kept in the facts, and its edits judged by :mod:`bot.licences.full_text` exactly as a
GitHub LICENSE. It is read again only when the repo's sha changed (the sha it was read at is
the stored validator); otherwise the previous snapshot's copy is carried. A gated repo's file
is not readable without access: that is said, and the watch goes on.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bot.alerts.compose import describe_repo_facts
from bot.detect.history import History
from bot.detect.repo import detect_repo, licence_set
from bot.domain.errors import (
    AccessDenied,
    FailureReason,
    HttpReason,
    RateLimited,
    SourceError,
    http_reason,
)
from bot.domain.facts import HubFacts, LicenceFile, RepoFacts
from bot.domain.model import (
    Change,
    ChangeKind,
    FetchResult,
    Gone,
    Link,
    Observation,
    Severity,
    TargetRef,
    Validators,
)
from bot.domain.refs import hf_repo
from bot.i18n import joined, msg
from bot.licences.classify import Category, classify_hub, name_text
from bot.licences.full_text import RULES_KEY, RULES_VERSION, text_change
from bot.net import parse_retry_after
from bot.text.diff import paragraphs

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

# Only these properties are asked for, so the Hub sends a few hundred bytes per repo instead of
# tens of kilobytes. Spaces cannot be expanded to ``gated`` (platform-facts 1.1): no expand.
_EXPAND = ["cardData", "gated", "private", "disabled", "sha", "lastModified", "tags"]
_RATELIMIT_T = re.compile(r"\bt=(\d+)")
# Where a licence lives when the card links none (the Hub asks `other` repos for a LICENSE file).
_LICENCE_FILES = ("LICENSE", "LICENSE.md", "LICENSE.txt")
_VALIDATOR = "licence-file@"  # stored validator: the sha the licence file was read at
MAX_LICENCE_BYTES = 1_000_000


# What a reader calls each kind of Hub repo (the alert's source label).
_HUB_LABELS = {
    "model": msg("Hugging Face model"),
    "dataset": msg("Hugging Face dataset"),
    "space": msg("Hugging Face space"),
}


class HubSource:
    kind = "hf"

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        timeout: float,
        concurrency: int,
        max_licence_bytes: int = MAX_LICENCE_BYTES,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.max_licence_bytes = max_licence_bytes
        self._token = token
        self._client: HfApi | None = None
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="hub")
        self._slots = asyncio.Semaphore(concurrency)

    def label(self, ref: TargetRef) -> str:
        return _HUB_LABELS.get(hf_repo(ref)[0]) or f"Hugging Face {hf_repo(ref)[0]}"

    def links(self, ref: TargetRef, evidence: Mapping[str, Any]) -> list[Link]:
        page = f"{self.endpoint}/{ref.locator}"
        out = [Link(msg("Repository"), page)]
        sha = evidence.get("sha")
        if sha:
            out.append(Link(msg("Commit {sha}", sha=str(sha)[:8]), f"{page}/commit/{sha}"))
        if evidence.get("licence_file_url"):
            out.append(Link(msg("Licence file"), str(evidence["licence_file_url"])))
        return out

    async def fetch(
        self, ref: TargetRef, validators: Validators, options: Mapping[str, Any]
    ) -> FetchResult:
        repo_type, repo_id = hf_repo(ref)
        loop = asyncio.get_running_loop()
        async with self._slots:
            try:
                info = await asyncio.wait_for(
                    loop.run_in_executor(
                        self._pool, self._info, repo_type, repo_id, validators.etag
                    ),
                    timeout=self.timeout * 6,  # info, then at most HEAD + GET of a few files
                )
            except TimeoutError as e:
                raise SourceError(
                    msg("the Hub did not answer within {seconds} s", seconds=f"{self.timeout:g}"),
                    reason=FailureReason.TIMEOUT,
                ) from e
        return info

    @property
    def _api(self) -> HfApi:
        """The client, made on first use: importing huggingface_hub costs about 0.17 s of
        start-up CPU, paid only by processes that check a Hub target."""
        if self._client is None:
            from huggingface_hub import HfApi

            self._client = HfApi(endpoint=self.endpoint, token=self._token or False)
        return self._client

    def _info(self, repo_type: str, repo_id: str, read_at: str | None = None) -> FetchResult:
        """Runs in a worker thread: one info call (and the licence file when the repo's sha
        moved since ``read_at``), every library error converted here."""
        from huggingface_hub.errors import (
            DisabledRepoError,
            GatedRepoError,
            RepositoryNotFoundError,
        )

        with converted_errors(self.endpoint, self.timeout):
            try:
                if repo_type == "model":
                    info: Any = self._api.model_info(repo_id, timeout=self.timeout, expand=_EXPAND)  # type: ignore[arg-type]
                elif repo_type == "dataset":
                    info = self._api.dataset_info(repo_id, timeout=self.timeout, expand=_EXPAND)  # type: ignore[arg-type]
                else:
                    info = self._api.space_info(repo_id, timeout=self.timeout)
            except GatedRepoError as e:  # subclass of RepositoryNotFoundError: catch it first
                raise AccessDenied(
                    msg("the Hub refused the metadata of this gated repo"),
                    reason=FailureReason.GATED_REFUSED,
                ) from e
            except DisabledRepoError:
                return Observation(facts={"exists": True, "disabled": True, "partial": True})
            except RepositoryNotFoundError as e:
                return Gone(
                    msg("HTTP {status}: repository not found or private", status=str(_status(e)))
                )
        facts, evidence = _facts(info, repo_id)
        paths = licence_file_paths(facts, evidence.get("license_link"), repo_id)
        sha = evidence.get("sha")
        if not paths or not isinstance(sha, str) or not sha:
            return Observation(facts=facts, evidence=evidence)
        if read_at == f"{_VALIDATOR}{sha}":  # same commit: the stored copy is still true
            facts["partial"] = True
        else:
            facts["licence_file"] = self._licence_file(repo_type, repo_id, sha, paths)
            facts[RULES_KEY] = RULES_VERSION
        file = facts.get("licence_file")
        path = (file["path"] if file else None) or paths[0]
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        evidence["licence_file_url"] = f"{self.endpoint}/{prefix}{repo_id}/blob/{sha}/{path}"
        return Observation(facts, evidence, Validators(etag=f"{_VALIDATOR}{sha}"))

    def _licence_file(
        self, repo_type: str, repo_id: str, sha: str, paths: tuple[str, ...]
    ) -> LicenceFile:
        """The first of ``paths`` that exists at commit ``sha``: its text, or why not."""
        from huggingface_hub import (
            get_hf_file_metadata,
            get_session,
            hf_hub_url,
            hf_raise_for_status,
        )
        from huggingface_hub.errors import EntryNotFoundError, GatedRepoError

        token: str | bool = self._token or False
        with converted_errors(self.endpoint, self.timeout, what=msg("licence file")):
            for path in paths:
                url = hf_hub_url(
                    repo_id, path, repo_type=repo_type, revision=sha, endpoint=self.endpoint
                )
                try:
                    meta = get_hf_file_metadata(url, token=token, timeout=self.timeout)
                except GatedRepoError:
                    return {"path": path, "status": "gated", "text": ""}
                except EntryNotFoundError:
                    continue
                if meta.size is not None and meta.size > self.max_licence_bytes:
                    return {"path": path, "status": "too-large", "text": ""}
                auth = {"Authorization": f"Bearer {self._token}"} if self._token else {}
                response = get_session().get(url, headers=auth, timeout=self.timeout)
                hf_raise_for_status(response)
                body = response.content[: self.max_licence_bytes]
                text = body.decode("utf-8", "replace").replace("\r\n", "\n")
                return {"path": path, "status": "ok", "text": text}
        return {"path": None, "status": "missing", "text": ""}

    def detect(self, prev: HubFacts, new: HubFacts, history: History) -> list[Change]:
        found = detect_repo(
            prev, new, earlier=history.earlier, prev_since=history.prev_since, now=history.now
        )
        relicensed = any(c.kind is ChangeKind.LICENCE for c in found)
        file = licence_file_change(prev, new, relicensed)
        return found + ([file] if file else [])

    def describe(self, facts: HubFacts) -> str:
        line = describe_repo_facts(facts, licence_set(facts).describe())
        file = facts.get("licence_file")
        if facts.get("exists", True) and isinstance(file, Mapping):
            line = joined(" · ", [line, describe_licence_file(file)])
        return line

    def lines(self, facts: HubFacts) -> list[str]:
        file = facts.get("licence_file")
        text = str(file.get("text") or "") if isinstance(file, Mapping) else ""
        return self.describe(facts).split(" · ") + (["", *paragraphs(text)] if text else [])

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _observation(info: Any, requested_id: str) -> Observation:
    facts, evidence = _facts(info, requested_id)
    return Observation(facts=facts, evidence=evidence)


def _facts(info: Any, requested_id: str) -> tuple[HubFacts, dict[str, Any]]:
    """The compared facts and the evidence of one info answer (the client's object)."""
    card = getattr(info, "card_data", None)
    licence = getattr(card, "license", None) if card is not None else None
    name = getattr(card, "license_name", None) if card is not None else None
    link = getattr(card, "license_link", None) if card is not None else None
    tags = list(getattr(info, "tags", None) or [])
    ids: list[str]
    if isinstance(licence, str) and licence:
        ids = [licence]
    elif isinstance(licence, list):
        ids = [str(x) for x in licence if x]
    else:  # no card metadata: the Hub's ``license:<id>`` tags are the fallback
        ids = [t.split(":", 1)[1] for t in tags if t.startswith("license:")]
    gated = getattr(info, "gated", False)
    facts: HubFacts = {
        "exists": True,
        "id": getattr(info, "id", requested_id),
        "licence": {"ids": ids, "name": name if isinstance(name, str) else None},
        "gated": gated if gated in ("auto", "manual") else False,
        "private": bool(getattr(info, "private", False)),
        "disabled": bool(getattr(info, "disabled", False)),
    }
    modified = getattr(info, "last_modified", None)
    evidence: dict[str, Any] = {
        "sha": getattr(info, "sha", None),
        "last_modified": modified.isoformat() if modified is not None else None,
        "license_link": link if isinstance(link, str) else None,
    }
    return facts, evidence


def licence_file_paths(facts: RepoFacts, link: object, repo_id: str) -> tuple[str, ...]:
    """Which file of the repo holds its licence text, when the card's id does not say it all:
    the card's ``license_link`` when it points into the repo, else the usual LICENSE names, for
    a licence that is ``other``, unknown to us, or linked. Empty: nothing to read."""
    lic = facts.get("licence")
    ids = [str(i) for i in (lic.get("ids") if lic else None) or []]
    linked = _repo_path(link, repo_id) if isinstance(link, str) and link.strip() else None
    declared = classify_hub(ids, lic.get("name") if lic else None)
    custom = any(i.strip().casefold() == "other" for i in ids) or any(
        licence.category is Category.UNKNOWN for licence in declared.licences
    )
    if linked:
        return (linked,)
    if custom or (isinstance(link, str) and link.strip()):
        return _LICENCE_FILES
    return ()


def _repo_path(link: str, repo_id: str) -> str | None:
    """``LICENSE``, ``./LICENSE.md`` or ``https://huggingface.co/org/x/blob/main/LICENSE`` →
    the path in the repo; a link to anywhere else → None."""
    link = link.strip()
    if "://" not in link:
        path = link.lstrip("./").lstrip("/")
        return path or None
    marker = f"/{repo_id}/"
    at = link.find(marker)
    if at < 0:
        return None
    rest = link[at + len(marker) :].split("?", 1)[0].split("#", 1)[0].split("/")
    if len(rest) >= 3 and rest[0] in ("blob", "resolve", "raw"):
        return "/".join(rest[2:]) or None
    return None


def describe_licence_file(file: LicenceFile) -> str:
    """ "licence file: LICENSE, custom licence “…” (unknown)", or why it could not be read."""
    status, path = file.get("status"), file.get("path") or "LICENSE"
    if status == "gated":
        return msg("licence file not readable without access ({path})", path=path)
    if status == "missing":
        return msg("licence file: none found")
    if status == "too-large":
        return msg("licence file: {path} too large to read", path=path)
    named = name_text(str(file.get("text") or ""), path).describe()
    return msg("licence file: {path}, {licence}", path=path, licence=named)


def licence_file_change(prev: HubFacts, new: HubFacts, relicensed: bool) -> Change | None:
    """An edit of the repo's own licence file, judged like a GitHub LICENSE (one set of
    materiality rules, :mod:`bot.licences.full_text`); a file that appears, goes or is renamed."""
    old, cur = prev.get("licence_file"), new.get("licence_file")
    if not isinstance(old, Mapping) or not isinstance(cur, Mapping):
        return None
    if "gated" in (old.get("status"), cur.get("status")):
        return None  # not readable on one side: the access change says so, if any
    old_ok, cur_ok = old.get("status") == "ok", cur.get("status") == "ok"
    old_path, new_path = old.get("path"), cur.get("path")
    if old_ok and cur_ok:
        moved = (
            msg(" (file {old} → {new})", old=str(old_path), new=str(new_path))
            if old_path != new_path
            else ""
        )
        old_text, new_text = str(old.get("text") or ""), str(cur.get("text") or "")
        was, now = name_text(old_text, old_path), name_text(new_text, new_path)
        change = text_change(
            old_text,
            new_text,
            old_rules=prev.get(RULES_KEY),
            still=now.describe(),
            relicensed=relicensed,
            where=moved,
        )
        if change is None or relicensed or (was.key, was.label) == (now.key, now.label):
            return change
        return Change(
            ChangeKind.CONTENT,
            Severity.NOTICE,
            msg(
                "Licence file {path} now reads as {now}, was {was}",
                path=str(new_path),
                now=now.describe(),
                was=was.describe(),
            ),
            detail=change.detail,
        )
    if old_ok and cur.get("status") == "missing":
        return Change(
            ChangeKind.CONTENT,
            Severity.NOTICE,
            msg("Licence file {path} removed", path=str(old_path)),
        )
    if cur_ok and old.get("status") == "missing":
        named = name_text(str(cur.get("text") or ""), new_path).describe()
        return Change(
            ChangeKind.CONTENT,
            Severity.NOTICE,
            msg("Licence file {path} added: {licence}", path=str(new_path), licence=named),
        )
    return None


@contextmanager
def converted_errors(endpoint: str, timeout: float, what: str = msg("repo JSON")) -> Iterator[None]:
    """The Hub client's exceptions, as the bot's SourceErrors (reason tags for health alerts)."""
    import httpx2  # imported when a Hub target is checked, not at start-up
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except HfHubHTTPError as e:
        raise _http_error(e) from e
    except httpx2.TimeoutException as e:
        raise SourceError(
            msg("the Hub did not answer within {seconds} s", seconds=f"{timeout:g}"),
            reason=FailureReason.TIMEOUT,
        ) from e
    except httpx2.HTTPError as e:
        raise SourceError(
            msg("network error reaching {host}: {error}", host=endpoint, error=_short(e)),
            reason=FailureReason.NETWORK,
        ) from e
    except (json.JSONDecodeError, ValueError, KeyError, TypeError) as e:
        raise SourceError(
            msg(
                "the Hub sent a response that is not valid {what}: {error}",
                what=what,
                error=_short(e),
            ),
            reason=FailureReason.MALFORMED,
        ) from e


def _status(e: HfHubHTTPError) -> int | None:
    response = getattr(e, "response", None)
    return getattr(response, "status_code", None)


def _http_error(e: HfHubHTTPError) -> SourceError:
    status = _status(e)
    headers = getattr(getattr(e, "response", None), "headers", {}) or {}
    if status == 429:
        return RateLimited(
            msg("the Hub is rate-limiting us (HTTP 429)"),
            reason=FailureReason.RATE_LIMITED,
            retry_after=_retry_after(headers),
        )
    if status in (401, 403):
        return AccessDenied(
            msg("the Hub refused access (HTTP {status}); an HF_TOKEN may help", status=str(status)),
            reason=http_reason(status),
        )
    return SourceError(
        msg("the Hub answered HTTP {status}", status=str(status)),
        reason=HttpReason(f"http-{status}"),
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    seconds = parse_retry_after(headers.get("retry-after"))
    if seconds is not None:
        return seconds
    match = _RATELIMIT_T.search(headers.get("ratelimit", ""))
    return float(match.group(1)) + 1 if match else None


def _short(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:200]
