"""The evidence routes on the ops server (:mod:`bot.runtime.ops_http`):
``GET /evidence/{c|t}/…`` and the stylesheet. Thin: verify the link, read the store in its worker
threads, build and render the page in another thread, answer with headers that keep the page private
and inert.

Everything that is not a valid, unexpired link for a channel that still watches the target is
the same 404, whatever the reason, so a prober learns nothing (not even that an id exists).
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from aiohttp import web

from bot.evidence import pages
from bot.evidence.links import PREFIX, Grant, Signer
from bot.evidence.queries import (
    ChangeRecord,
    Scoped,
    changes_of,
    get_change,
    scoped_target,
    snapshot_pair,
)
from bot.sources.base import Source, ViewSource
from bot.store import Store
from bot.store.threads import call
from bot.text.diff import MAX_DIFF_LINES

_STATIC = files("bot.evidence").joinpath("templates/static")
CSS = _STATIC.joinpath("evidence.css").read_bytes()
ICON = _STATIC.joinpath("favicon.svg").read_bytes()
HEADERS = {
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True, slots=True)
class _Loaded:
    scoped: Scoped
    records: list[ChangeRecord]  # the channel's view of the target's changes, oldest first
    view: str | None
    change: ChangeRecord | None = None
    before: Any = None
    after: Any = None


class EvidenceSite:
    def __init__(
        self,
        store: Store,
        sources: Mapping[str, Source],
        signer: Signer,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_lines: int = MAX_DIFF_LINES,
    ) -> None:
        self.store = store
        self.sources = sources
        self.signer = signer
        self.clock = clock
        self.max_lines = max_lines

    def mount(self, app: web.Application) -> None:
        app.router.add_get(PREFIX + "/static/evidence.css", self.stylesheet)
        app.router.add_get(PREFIX + "/static/favicon.svg", self.icon)
        app.router.add_get(PREFIX + "/{kind}/{id}/{tag}/{expires}/{sig}", self.page)
        app.router.add_route("*", PREFIX + "/{tail:.*}", self.not_found)

    async def stylesheet(self, request: web.Request) -> web.Response:
        return web.Response(
            body=CSS,
            content_type="text/css",
            charset="utf-8",
            headers={**HEADERS, "Cache-Control": "public, max-age=3600"},
        )

    async def icon(self, request: web.Request) -> web.Response:
        return web.Response(
            body=ICON,
            content_type="image/svg+xml",
            headers={**HEADERS, "Cache-Control": "public, max-age=3600"},
        )

    async def not_found(self, request: web.Request) -> web.Response:
        return _html(pages.render_not_found(), 404)

    async def page(self, request: web.Request) -> web.Response:
        m = request.match_info
        grant = self.signer.verify(
            m["kind"], m["id"], m["tag"], m["expires"], m["sig"], self.clock()
        )
        if grant is None:
            return await self.not_found(request)
        loaded = await call(self._load, grant)
        if loaded is None:
            return await self.not_found(request)
        html = await asyncio.to_thread(self._render, grant, loaded)
        return _html(html, 200)

    # -- in the store's worker threads ---------------------------------------------------

    def _tag_matches(self, channel: str, tag: str) -> bool:
        return hmac.compare_digest(self.signer.channel_tag(channel), tag)

    def _load(self, grant: Grant) -> _Loaded | None:
        change = None
        if grant.kind == "c":
            change = get_change(self.store, grant.id)
            if change is None:
                return None
            target_id = change.target_id
        else:
            target_id = grant.id
        scoped = scoped_target(
            self.store, target_id, lambda ch: self._tag_matches(ch, grant.channel_tag)
        )
        if scoped is None:
            return None
        view = self._view(scoped)
        records = [r for r in changes_of(self.store, target_id) if r.view in (None, view)]
        if change is None:
            return _Loaded(scoped, records, view)
        if change.view not in (None, view):  # another channel's view of the same page
            return None
        before, after = snapshot_pair(self.store, target_id, change.snapshot_id, change.detected_at)
        return _Loaded(scoped, records, view, change, before, after)

    def _view(self, scoped: Scoped) -> str | None:
        source = self.sources.get(scoped.target.kind)
        if isinstance(source, ViewSource):
            return source.view_key(scoped.subscription.options)
        return None

    # -- in a worker thread: CPU work (diff, template) ---------------------------------------

    def _facts(self, source: Source | None, snapshot: Any, view: str | None) -> Any:
        if snapshot is None:
            return None
        if view is not None and isinstance(source, ViewSource):
            return source.view_facts(snapshot.facts, view)
        return snapshot.facts

    def _render(self, grant: Grant, loaded: _Loaded) -> str:
        target = loaded.scoped.target
        source = self.sources.get(target.kind)
        label = source.label(target.target_ref) if source else target.kind
        name = pages.name_of(target.ref)
        expires = datetime.fromtimestamp(grant.expires, UTC)
        target_url = self.signer.path_for(Grant("t", target.id, grant.channel_tag, grant.expires))
        if loaded.change is None:
            return pages.render_target(
                pages.TargetPage(
                    title=f"Timeline — {name}",
                    target=target.ref,
                    target_name=name,
                    source_label=label,
                    watching_since=loaded.scoped.subscription.created_at,
                    last_checked_at=target.last_checked_at,
                    failing=target.last_error if target.failures else None,
                    timeline=tuple(pages.timeline(self.signer, grant, loaded.records)),
                    expires=expires,
                )
            )
        change = loaded.change
        groups = pages.checks_of(loaded.records)
        index = next(i for i, g in enumerate(groups) if any(r.id == change.id for r in g))
        group = groups[index]
        top = pages.headline(group)

        def nav(i: int) -> str | None:
            if 0 <= i < len(groups):
                return self.signer.path_for(
                    Grant("c", groups[i][0].id, grant.channel_tag, grant.expires)
                )
            return None

        old_facts = self._facts(source, loaded.before, loaded.view)
        new_facts = self._facts(source, loaded.after, loaded.view)
        name = pages.name_of(target.ref, new_facts or old_facts)
        lines = source.lines if source else (lambda f: [str(f)])
        describe = source.describe if source else (lambda f: "")
        ref = target.target_ref

        def links_of(snapshot: Any) -> list[Any]:
            return source.links(ref, snapshot.evidence) if source and snapshot else []

        same = loaded.before is loaded.after
        before = pages.version(
            "Before" if not same else "Current version",
            loaded.before.taken_at if loaded.before else None,
            old_facts,
            lines,
            describe,
            links_of(loaded.before),
        )
        after = (
            None
            if same
            else pages.version(
                "After",
                loaded.after.taken_at if loaded.after else None,
                new_facts,
                lines,
                describe,
                links_of(loaded.after),
            )
        )
        diff = (
            pages.diff_view(lines(old_facts), lines(new_facts), self.max_lines)
            if old_facts is not None and new_facts is not None and not same
            else pages.DiffView()
        )
        snap = f" (snapshot #{loaded.after.id})" if loaded.after is not None and not same else ""
        return pages.render_change(
            pages.ChangePage(
                title=f"{_headline(top)} — {name}",
                target=target.ref,
                target_name=name,
                source_label=label,
                severity=top.severity,
                detected_at=change.detected_at,
                check=f"the scheduled {label} check{snap}",
                changes=tuple(sorted(group, key=lambda r: r.id)),
                before=before,
                after=after,
                diff=diff,
                target_url=target_url,
                previous_url=nav(index - 1),
                next_url=nav(index + 1),
                expires=expires,
            )
        )


def _headline(top: ChangeRecord) -> str:
    if top.kind == "health":
        return top.summary.split(":", 1)[0]
    return {"entry": "New entry", "licence": "Licence changed", "access": "Access changed"}.get(
        top.kind, "Content changed"
    )


def _html(body: str, status: int) -> web.Response:
    return web.Response(
        text=body, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )
