"""Sources: one module per kind of target, registered explicitly in :func:`build_sources`."""

from __future__ import annotations

from bot.config import Settings
from bot.detect.history import History
from bot.domain.facts import FeedFacts, GithubFacts, HubFacts, OrgFacts, PageView
from bot.net import Limits
from bot.sources.base import Source, TypedSource
from bot.sources.feed import FeedSource
from bot.sources.github import GitHubSource
from bot.sources.github_org import GitHubOrgSource
from bot.sources.hub import HubSource
from bot.sources.hub_org import HubOrgSource
from bot.sources.page import PageSource


def build_sources(settings: Settings) -> dict[str, Source]:
    """The registry of source kinds, keyed by the prefix of a target reference."""
    hub = HubSource(
        endpoint=settings.hf_endpoint,
        token=settings.hf_token.get_secret_value() if settings.hf_token else None,
        timeout=settings.hub_timeout,
        concurrency=settings.hub_concurrency,
    )
    feed = FeedSource(settings)
    github = GitHubSource(
        api_url=settings.github_api_url,
        token=settings.github_token.get_secret_value() if settings.github_token else None,
        limits=Limits.from_settings(settings),
        concurrency=settings.github_concurrency,
    )
    page = PageSource(settings)
    hub_org = HubOrgSource(
        endpoint=settings.hf_endpoint,
        token=settings.hf_token.get_secret_value() if settings.hf_token else None,
        timeout=settings.hub_timeout,
        group_over=settings.org_group_over,
    )
    github_org = GitHubOrgSource(github, group_over=settings.org_group_over)
    # Each source as the TypedSource of its own facts: mypy checks that its detect, describe
    # and lines take exactly that shape.
    typed: tuple[
        TypedSource[HubFacts],
        TypedSource[GithubFacts],
        TypedSource[PageView],  # detect, describe and lines see one view of the page
        TypedSource[FeedFacts],
        TypedSource[OrgFacts],
        TypedSource[OrgFacts],
    ]
    typed = (hub, github, page, feed, hub_org, github_org)
    return {source.kind: source for source in typed}


__all__ = ["History", "Source", "build_sources"]
