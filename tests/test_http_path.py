"""One HTTP path, with credentials that never leak (issue 11, design invariants 7 and 8).

Every test drives the real code against real local servers: the GitHub token must not follow
a redirect to another origin, feeds obey the operator's URL policy and limits, webhook URLs
(credentials) are checked when a watch is created and never logged, a webhook that can never
work stops its channel at once, links in chat messages are http(s) and short, and upstream
text cannot drive the operator's terminal.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.model import Validators
from bot.net import Limits
from bot.sources.github import GitHubSource
from tests.fakes.github import FakeGitHub
from tests.fakes.web import FakeWeb

TOKEN = "ghp_testtoken1234567890abcdefghij"
REPO = "acme/model"


@pytest.fixture
async def web() -> AsyncIterator[FakeWeb]:
    async with FakeWeb() as fake:
        yield fake


# ------------------------------------------------------------------ credentials and redirects


async def test_github_token_is_not_sent_to_another_origin_by_a_redirect(web: FakeWeb) -> None:
    async with FakeGitHub(tokens=frozenset({TOKEN})) as gh:
        gh.set_repo(REPO)
        gh.set_repo("acme/old")
        gh.rename("acme/old", "acme/new")  # 301 to /repositories/{id}: the same origin
        gh.redirect_elsewhere(REPO, f"{web.url}/elsewhere")
        web.set_page("/elsewhere", "{}", content_type="application/json")
        source = GitHubSource(gh.url, TOKEN, Limits(), 2)
        try:
            await source.fetch(_ref("acme/old"), Validators(), {})
            await source.fetch(_ref(REPO), Validators(), {})
        finally:
            await source.aclose()
    landed = web.hits("/elsewhere")
    assert landed, "the redirect was followed"
    assert all("authorization" not in hit.headers for hit in landed), landed[0].headers
    assert all(TOKEN not in str(hit.headers) for hit in landed)
    same_origin = [h for h in gh.requests if h.path.startswith("/repositories/")]
    assert same_origin and all(
        h.headers.get("authorization") == f"Bearer {TOKEN}" for h in same_origin
    ), "a same-origin redirect keeps the token"


def _ref(locator: str):  # type: ignore[no-untyped-def]
    from bot.refs import parse_target

    return parse_target(f"github:{locator}")
