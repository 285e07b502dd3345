"""Hugging Face Hub repos (models, datasets, spaces): licence, gating, visibility.

Uses the real ``huggingface_hub`` client, which is synchronous, in a bounded thread pool with
explicit timeouts (it has none by default). Only the facts that matter are compared; the
commit sha and last-modified time are evidence, so a new commit that leaves the licence alone
is not a change.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bot.detect import detect_repo, licence_set
from bot.errors import AccessDenied, RateLimited, SourceError
from bot.model import Change, FetchResult, Gone, Link, Observation, TargetRef, Validators
from bot.net import parse_retry_after
from bot.refs import hf_repo
from bot.render import describe_repo_facts
from bot.sources.base import History

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

# Only these properties are asked for, so the Hub sends a few hundred bytes per repo instead of
# tens of kilobytes. Spaces cannot be expanded to ``gated`` (platform-facts 1.1): no expand.
_EXPAND = ["cardData", "gated", "private", "disabled", "sha", "lastModified", "tags"]
_RATELIMIT_T = re.compile(r"\bt=(\d+)")


class HubSource:
    kind = "hf"

    def __init__(self, endpoint: str, token: str | None, timeout: float, concurrency: int) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self._token = token
        self._client: HfApi | None = None
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="hub")
        self._slots = asyncio.Semaphore(concurrency)

    def label(self, ref: TargetRef) -> str:
        return f"Hugging Face {hf_repo(ref)[0]}"

    def links(self, ref: TargetRef, evidence: Mapping[str, Any]) -> list[Link]:
        page = f"{self.endpoint}/{ref.locator}"
        out = [Link("Repository", page)]
        sha = evidence.get("sha")
        if sha:
            out.append(Link(f"Commit {str(sha)[:8]}", f"{page}/commit/{sha}"))
        return out

    async def fetch(
        self, ref: TargetRef, validators: Validators, options: Mapping[str, Any]
    ) -> FetchResult:
        repo_type, repo_id = hf_repo(ref)
        loop = asyncio.get_running_loop()
        async with self._slots:
            try:
                info = await asyncio.wait_for(
                    loop.run_in_executor(self._pool, self._info, repo_type, repo_id),
                    timeout=self.timeout * 2,
                )
            except TimeoutError as e:
                raise SourceError(
                    f"the Hub did not answer within {self.timeout:g} s", reason="timeout"
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

    def _info(self, repo_type: str, repo_id: str) -> FetchResult:
        """Runs in a worker thread: one info call, every library error converted here."""
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
                    "the Hub refused the metadata of this gated repo", reason="gated-refused"
                ) from e
            except DisabledRepoError:
                return Observation(facts={"exists": True, "disabled": True, "partial": True})
            except RepositoryNotFoundError as e:
                return Gone(f"HTTP {_status(e)}: repository not found or private")
        return _observation(info, repo_id)

    def detect(
        self, prev: Mapping[str, Any], new: Mapping[str, Any], history: History
    ) -> list[Change]:
        return detect_repo(
            prev, new, earlier=history.earlier, prev_since=history.prev_since, now=history.now
        )

    def describe(self, facts: Mapping[str, Any]) -> str:
        return describe_repo_facts(facts, licence_set(facts).describe())

    def lines(self, facts: Mapping[str, Any]) -> list[str]:
        return self.describe(facts).split(" · ")

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _observation(info: Any, requested_id: str) -> Observation:
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
    facts = {
        "exists": True,
        "id": getattr(info, "id", requested_id),
        "licence": {"ids": ids, "name": name if isinstance(name, str) else None},
        "gated": gated if gated in ("auto", "manual") else False,
        "private": bool(getattr(info, "private", False)),
        "disabled": bool(getattr(info, "disabled", False)),
    }
    modified = getattr(info, "last_modified", None)
    evidence = {
        "sha": getattr(info, "sha", None),
        "last_modified": modified.isoformat() if modified is not None else None,
        "license_link": link if isinstance(link, str) else None,
    }
    return Observation(facts=facts, evidence=evidence)


@contextmanager
def converted_errors(endpoint: str, timeout: float, what: str = "repo JSON") -> Iterator[None]:
    """The Hub client's exceptions, as the bot's SourceErrors (reason tags for health alerts)."""
    import httpx2  # imported when a Hub target is checked, not at start-up
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except HfHubHTTPError as e:
        raise _http_error(e) from e
    except httpx2.TimeoutException as e:
        raise SourceError(f"the Hub did not answer within {timeout:g} s", reason="timeout") from e
    except httpx2.HTTPError as e:
        raise SourceError(
            f"network error reaching {endpoint}: {_short(e)}", reason="network"
        ) from e
    except (json.JSONDecodeError, ValueError, KeyError, TypeError) as e:
        raise SourceError(
            f"the Hub sent a response that is not valid {what}: {_short(e)}", reason="malformed"
        ) from e


def _status(e: HfHubHTTPError) -> int | None:
    response = getattr(e, "response", None)
    return getattr(response, "status_code", None)


def _http_error(e: HfHubHTTPError) -> SourceError:
    status = _status(e)
    headers = getattr(getattr(e, "response", None), "headers", {}) or {}
    if status == 429:
        return RateLimited(
            "the Hub is rate-limiting us (HTTP 429)",
            reason="rate-limited",
            retry_after=_retry_after(headers),
        )
    if status in (401, 403):
        return AccessDenied(
            f"the Hub refused access (HTTP {status}); an HF_TOKEN may help", reason=f"http-{status}"
        )
    return SourceError(f"the Hub answered HTTP {status}", reason=f"http-{status}")


def _retry_after(headers: Mapping[str, str]) -> float | None:
    seconds = parse_retry_after(headers.get("retry-after"))
    if seconds is not None:
        return seconds
    match = _RATELIMIT_T.search(headers.get("ratelimit", ""))
    return float(match.group(1)) + 1 if match else None


def _short(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:200]
