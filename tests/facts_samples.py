"""Facts of each source built by its own code from fixed upstream answers: the shapes that are
stored in ``snapshots.facts`` (see tests/data/facts_golden.json, captured before the facts
were typed)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from bot.domain.model import Validators
from bot.net import Fetched
from bot.sources import github as github_source
from bot.sources import github_org, hub, hub_org
from bot.text import feed_entries as feeds
from bot.text import page_views

_MIT = (
    "MIT License\n\nCopyright (c) 2024 Example\n\nPermission is hereby granted, free of charge..."
)


def hub_facts() -> Mapping[str, Any]:
    info = SimpleNamespace(
        id="acme/model",
        card_data=SimpleNamespace(
            license="other", license_name="acme-licence", license_link="LICENSE"
        ),
        tags=["license:other"],
        gated="manual",
        private=False,
        disabled=False,
        sha="0123456789abcdef",
        last_modified=datetime(2026, 1, 2, tzinfo=UTC),
    )
    facts = dict(hub._observation(info, "acme/model").facts)
    facts["licence_file"] = {
        "path": "LICENSE",
        "status": "ok",
        "text": "ACME licence v2\n\nNo use.",
    }
    facts["licence_text_rules"] = 2
    return facts


def github_facts() -> Mapping[str, Any]:
    repo = {
        "full_name": "acme/tool",
        "private": False,
        "archived": True,
        "disabled": False,
        "html_url": "https://github.com/acme/tool",
        "pushed_at": "2026-01-01T00:00:00Z",
    }
    lic = {
        "path": "LICENSE",
        "html_url": "https://github.com/acme/tool/blob/main/LICENSE",
        "sha": "abc",
        "encoding": "base64",
        "content": base64.b64encode(_MIT.encode()).decode(),
        "license": {"spdx_id": "MIT", "key": "mit", "name": "MIT License"},
    }

    def got(body: object) -> Fetched:
        return Fetched(
            200, "https://api.github.test/", {}, json.dumps(body).encode(), Validators(etag='"e"')
        )

    return github_source._observation(got(repo), got(lic)).facts


_RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Acme news</title>
<link>https://acme.test/</link>
<item><title>Terms updated</title><link>https://acme.test/terms</link><guid>t1</guid>
<pubDate>Tue, 01 Dec 2026 09:00:00 GMT</pubDate>
<description>We changed the terms.</description></item>
<item><title>Pricing</title><link>https://acme.test/pricing</link><guid>t2</guid>
<pubDate>Mon, 30 Nov 2026 09:00:00 GMT</pubDate></item>
</channel></rss>"""


def feed_facts() -> Mapping[str, Any]:
    parsed = feeds.parse_feed(
        _RSS, content_type="application/rss+xml", url="https://acme.test/feed"
    )
    fresh = feeds.facts_of(parsed, max_entries=50, remember=500)
    return feeds.carry({"seen": ["t0"]}, fresh, 500)


_HTML = b"""<html><head><title>Acme terms</title></head><body><main><h1>Terms</h1>
<p>You may use the service.</p><p>Updated: 1 Dec 2026</p></main></body></html>"""


def page_facts() -> Mapping[str, Any]:
    views = {
        page_views.view_key({}): {},
        page_views.view_key({"select": "main", "ignore": ["Updated:"]}): page_views.view_of(
            {"select": "main", "ignore": ["Updated:"]}
        ),
        page_views.view_key({"select": "#gone"}): page_views.view_of({"select": "#gone"}),
    }
    return page_views.extract_views(_HTML, "text/html", "https://acme.test/terms", views)


def hub_org_facts() -> Mapping[str, Any]:
    items = [
        {
            "id": "acme/a",
            "cardData": {"license": "apache-2.0"},
            "tags": [],
            "gated": False,
            "private": False,
            "disabled": False,
        },
        {
            "id": "acme/b",
            "cardData": {"license": "other", "license_name": "x"},
            "tags": [],
            "gated": "auto",
            "private": False,
            "disabled": False,
        },
    ]
    return {
        "exists": True,
        "owner": "acme",
        "repos": {f"model:{i['id']}": hub_org._repo_facts(i) for i in items},
    }


def github_org_facts() -> Mapping[str, Any]:
    items: list[dict[str, Any]] = [
        {
            "full_name": "acme/a",
            "license": {"spdx_id": "MIT", "key": "mit", "name": "MIT License"},
            "private": False,
            "archived": False,
            "disabled": False,
        },
        {
            "full_name": "acme/b",
            "license": None,
            "private": False,
            "archived": True,
            "disabled": False,
        },
    ]
    return {
        "exists": True,
        "owner": "acme",
        "repos": {i["full_name"]: github_org._repo_facts(i) for i in items},
    }


SAMPLES: dict[str, Callable[[], Mapping[str, Any]]] = {
    "hf": hub_facts,
    "github": github_facts,
    "feed": feed_facts,
    "page": page_facts,
    "hf-org": hub_org_facts,
    "github-org": github_org_facts,
}
