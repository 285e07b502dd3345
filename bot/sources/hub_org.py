"""Every public model, dataset and space of a Hub author (``hf:org/<owner>``).

Three paginated listings per check (``/api/models?author=``, ``/api/datasets?author=``,
``/api/spaces?author=``), each asking with ``expand`` for only the properties a licence/gating
watch needs, so 1,000 repos cost about ten requests, not a thousand. Pages are read with the
client's own session and error mapping, following the Link header as ``HfApi.list_models``
does, but one request per page: the client's ``paginate`` retries every failure five times with
its own backoff (24 s and dozens of "Retrying in Ns" lines offline), whereas a failed check
here is one failure, retried by the scheduler's per-target backoff. A check succeeds only when
every page of every listing arrived: a partial listing would look like removed repos.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.detect.org import OrgSourceBase
from bot.domain.errors import FailureReason, SourceError
from bot.domain.facts import OrgFacts, RepoFacts
from bot.domain.model import FetchResult, Gone, Link, Observation, TargetRef, Validators
from bot.i18n import msg
from bot.sources.hub import converted_errors

# Spaces cannot be expanded to ``gated`` (platform-facts 1.1): a space is listed as ungated.
_EXPAND: dict[str, list[str]] = {
    "model": ["cardData", "gated", "private", "disabled", "tags"],
    "dataset": ["cardData", "gated", "private", "disabled", "tags"],
    "space": ["cardData", "private", "disabled", "tags"],
}


class HubOrgSource(OrgSourceBase):
    kind = "hf-org"

    def __init__(
        self, endpoint: str, token: str | None, timeout: float, group_over: int = 10
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.group_over = group_over
        self._token: str | bool = token or False
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="hub-org")

    def label(self, ref: TargetRef) -> str:
        return msg("Hugging Face organisation")

    def links(self, ref: TargetRef, evidence: Mapping[str, Any]) -> list[Link]:
        return [Link(msg("Organisation"), f"{self.endpoint}/{ref.locator}")]

    async def fetch(
        self, ref: TargetRef, validators: Validators, options: Mapping[str, Any]
    ) -> FetchResult:
        loop = asyncio.get_running_loop()
        calls = [
            loop.run_in_executor(self._pool, self._listing, kind, ref.locator) for kind in _EXPAND
        ]
        try:
            # Each page has its own timeout; the whole listing gets a generous bound on top.
            listings = await asyncio.wait_for(asyncio.gather(*calls), timeout=self.timeout * 20)
        except TimeoutError as e:
            raise SourceError(
                msg("the Hub did not finish listing {owner}'s repos in time", owner=ref.locator),
                reason=FailureReason.TIMEOUT,
            ) from e
        repos: dict[str, RepoFacts] = {}
        for kind, items in zip(_EXPAND, listings, strict=True):
            for item in items:
                repos[f"{kind}:{item['id']}"] = _repo_facts(item)
        if not repos:
            return Gone(msg("the Hub lists no public repos for {owner}", owner=repr(ref.locator)))
        facts: OrgFacts = {"exists": True, "owner": ref.locator, "repos": repos}
        return Observation(facts=facts)

    def _listing(self, kind: str, owner: str) -> list[dict[str, Any]]:
        """Runs in a worker thread: every page of one listing, library errors converted."""
        # Imported when an org is checked, not at start-up (it costs ~0.3 s of CPU).
        from huggingface_hub.utils import (  # type: ignore[attr-defined]
            build_hf_headers,
            get_session,
            hf_raise_for_status,
        )

        params: list[tuple[str, str | int | float | bool | None]] | None = [
            ("author", owner),
            *(("expand", e) for e in _EXPAND[kind]),
        ]
        headers = build_hf_headers(token=self._token)
        url: str | None = f"{self.endpoint}/api/{kind}s"
        items: list[Any] = []
        with converted_errors(self.endpoint, self.timeout, what=msg("listing JSON")):
            while url is not None:
                response = get_session().get(
                    url, params=params, headers=headers, timeout=self.timeout
                )
                hf_raise_for_status(response)
                page = response.json()
                if not isinstance(page, list):
                    raise ValueError(f"a {kind} listing page is not a list")
                items.extend(page)
                url = response.links.get("next", {}).get("url")
                params = None  # the next link carries the query already
        return _items(items, kind)

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _items(items: Iterable[Any], kind: str) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise SourceError(
                msg("the Hub listed a {kind} without an id", kind=kind),
                reason=FailureReason.MALFORMED,
            )
        out.append(item)
    return out


def _repo_facts(item: Mapping[str, Any]) -> RepoFacts:
    """The repository facts of :mod:`bot.detect.repo` from one listing item (as the info call)."""
    raw_card = item.get("cardData")
    card: Mapping[str, Any] = raw_card if isinstance(raw_card, dict) else {}
    licence = card.get("license")
    name = card.get("license_name")
    tags = [str(t) for t in item.get("tags") or []]
    if isinstance(licence, str) and licence:
        ids = [licence]
    elif isinstance(licence, list):
        ids = [str(x) for x in licence if x]
    else:  # no card metadata: the Hub's ``license:<id>`` tags are the fallback
        ids = [t.split(":", 1)[1] for t in tags if t.startswith("license:")]
    gated = item.get("gated", False)
    return {
        "exists": True,
        "id": item["id"],
        "licence": {"ids": ids, "name": name if isinstance(name, str) else None},
        "gated": gated if gated in ("auto", "manual") else False,
        "private": bool(item.get("private", False)),
        "disabled": bool(item.get("disabled", False)),
    }
