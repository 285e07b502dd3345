"""Every public repository of a GitHub organisation (``github:org/<owner>``): their licences.

``GET /orgs/{org}/repos?type=public&per_page=100`` with ``Link`` pagination: one request per
hundred repos. The ``license`` object of each listed repo (GitHub's Licensee verdict) is
enough to see a relicensing; the licence text is not fetched (that would be one request per
repo), so a custom licence shows as GitHub's ``other``. Requests go through the single-repo
:class:`~bot.sources.github.GitHubSource`, so both kinds share one rate-limit pause for the
API host. A check succeeds only when every page arrived.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from bot.detect.org import OrgSourceBase
from bot.domain.errors import FailureReason, SourceError
from bot.domain.facts import OrgFacts, RepoFacts
from bot.domain.model import FetchResult, Gone, Link, Observation, TargetRef, Validators
from bot.i18n import msg
from bot.sources.github import GitHubSource

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_NO_ID = frozenset({"", "other", "noassertion"})
MAX_PAGES = 100  # 10,000 repos: more is a runaway Link chain, not an organisation


class GitHubOrgSource(OrgSourceBase):
    kind = "github-org"

    def __init__(self, github: GitHubSource, group_over: int = 10) -> None:
        self.github = github
        self.group_over = group_over

    def label(self, ref: TargetRef) -> str:
        return msg("GitHub organisation")

    def links(self, ref: TargetRef, evidence: Mapping[str, Any]) -> list[Link]:
        return [Link(msg("Organisation"), f"https://github.com/{ref.locator}")]

    async def fetch(
        self, ref: TargetRef, validators: Validators, options: Mapping[str, Any]
    ) -> FetchResult:
        path: str | None = f"/orgs/{quote(ref.locator, safe='')}/repos?type=public&per_page=100"
        repos: dict[str, RepoFacts] = {}
        pages = 0
        async with self.github._slots:
            while path is not None:
                pages += 1
                if pages > MAX_PAGES:
                    raise SourceError(
                        msg("GitHub listed more than {count} pages of repos", count=MAX_PAGES),
                        reason=FailureReason.MALFORMED,
                    )
                got = await self.github._get(path, None)
                if got.status in (404, 451):
                    return Gone(
                        msg(
                            "HTTP {status}: no GitHub organisation {org}",
                            status=str(got.status),
                            org=repr(ref.locator),
                        )
                    )
                for item in _page(got.body):
                    repo = _repo_facts(item)
                    repos[repo["id"]] = repo
                path = self._next(got.headers.get("link", ""))
        org: OrgFacts = {"exists": True, "owner": ref.locator, "repos": repos}
        return Observation(facts=org)

    def _next(self, link: str) -> str | None:
        """The next page's path; a next URL on another host is refused (it would leak the
        token there)."""
        match = _NEXT.search(link)
        if match is None:
            return None
        url = match.group(1)
        if not url.startswith(self.github.api_url + "/"):
            raise SourceError(
                msg("GitHub's next-page link points elsewhere"), reason=FailureReason.MALFORMED
            )
        return url[len(self.github.api_url) :]

    async def aclose(self) -> None:
        """The session belongs to the GitHub source, which closes it."""


def _page(body: bytes) -> list[Mapping[str, Any]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise SourceError(
            msg("GitHub sent a repo listing that is not JSON"), reason=FailureReason.MALFORMED
        ) from e
    if not isinstance(data, list) or not all(
        isinstance(i, dict) and isinstance(i.get("full_name"), str) for i in data
    ):
        raise SourceError(
            msg("GitHub sent an unexpected repo listing"), reason=FailureReason.MALFORMED
        )
    return data


def _repo_facts(item: Mapping[str, Any]) -> RepoFacts:
    """Repository facts of :mod:`bot.detect.repo`; ``NOASSERTION`` (a custom licence) is
    ``other``."""
    lic = item.get("license") if isinstance(item.get("license"), dict) else None
    ids: list[str] = []
    name = None
    if lic is not None:
        spdx, key = str(lic.get("spdx_id") or ""), str(lic.get("key") or "")
        ids = [spdx if spdx.casefold() not in _NO_ID else (key or "other")]
        name = lic.get("name") if isinstance(lic.get("name"), str) else None
    return {
        "exists": True,
        "id": str(item["full_name"]),
        "licence": {"ids": ids, "name": name},
        "private": bool(item.get("private")),
        "archived": bool(item.get("archived")),
        "disabled": bool(item.get("disabled")),
    }
