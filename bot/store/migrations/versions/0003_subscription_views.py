"""subscription views: a page's select/ignore belongs to each subscription, not the target

Before, ``targets.options`` held a page's select/ignore, shared by every channel watching the
URL: one channel's ``--ignore '.*'`` blinded the others. Now each subscription's
``options`` holds its own, the page is still fetched once, and a snapshot holds one version
per distinct view: ``facts = {"views": {<view key>: <the old facts>}}`` where the view key is
the canonical JSON of ``{select, ignore}`` (``{}`` for none). ``changes.view`` records the
view a change was seen through (NULL: every subscriber's), so history can be per channel.

Upgrade keeps every subscription's behaviour: each one gets its target's select/ignore, old
snapshots become the version of that one view (digests recomputed), old page changes are
tagged with it. Downgrade is lossy where channels had different views: the target takes the
view of its oldest subscription.

The canonical JSON below is a frozen copy of ``view_key`` (then in ``bot.sources.page``, now
in ``bot.text.page_views``) and ``bot.domain.model.facts_digest``: a migration must not change
when the code does.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 500

targets = sa.table(
    "targets",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("options", sa.JSON),
)
subscriptions = sa.table(
    "subscriptions",
    sa.column("id", sa.Integer),
    sa.column("target_id", sa.Integer),
    sa.column("options", sa.JSON),
)
snapshots = sa.table(
    "snapshots",
    sa.column("id", sa.Integer),
    sa.column("target_id", sa.Integer),
    sa.column("digest", sa.String),
    sa.column("facts", sa.JSON),
)
changes = sa.table(
    "changes",
    sa.column("id", sa.Integer),
    sa.column("target_id", sa.Integer),
    sa.column("view", sa.Text),
)

_VIEW_KEYS = ("select", "ignore")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _view(options: Mapping[str, Any] | None) -> dict[str, Any]:
    view: dict[str, Any] = {}
    options = options or {}
    select = options.get("select")
    if isinstance(select, str) and select.strip():
        view["select"] = select.strip()
    ignore = [p for p in options.get("ignore") or () if isinstance(p, str) and p]
    if ignore:
        view["ignore"] = ignore
    return view


def _digest(facts: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(facts).encode()).hexdigest()


def _page_targets(c: sa.Connection) -> list[tuple[int, dict[str, Any]]]:
    rows = c.execute(sa.select(targets.c.id, targets.c.options).where(targets.c.kind == "page"))
    return [(r.id, dict(r.options or {})) for r in rows]


def _snapshots_of(c: sa.Connection, target_id: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """In batches by id: a target may have thousands of versions."""
    last = 0
    while True:
        rows = c.execute(
            sa.select(snapshots.c.id, snapshots.c.facts)
            .where(snapshots.c.target_id == target_id, snapshots.c.id > last)
            .order_by(snapshots.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for r in rows:
            yield r.id, dict(r.facts or {})
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("view", sa.Text(), nullable=True))
    c = op.get_bind()
    for target_id, options in _page_targets(c):
        view = _view(options)
        key = _canonical(view)
        subs = c.execute(
            sa.select(subscriptions.c.id, subscriptions.c.options).where(
                subscriptions.c.target_id == target_id
            )
        ).all()
        for sub in subs:
            mine = {k: v for k, v in dict(sub.options or {}).items() if k not in _VIEW_KEYS}
            c.execute(
                subscriptions.update()
                .where(subscriptions.c.id == sub.id)
                .values(options={**mine, **view})
            )
        rest = {k: v for k, v in options.items() if k not in _VIEW_KEYS}
        c.execute(targets.update().where(targets.c.id == target_id).values(options=rest))
        for snapshot_id, facts in _snapshots_of(c, target_id):
            if "views" in facts:
                continue
            wrapped = {"views": {key: facts}}
            c.execute(
                snapshots.update()
                .where(snapshots.c.id == snapshot_id)
                .values(facts=wrapped, digest=_digest(wrapped))
            )
        c.execute(changes.update().where(changes.c.target_id == target_id).values(view=key))


def downgrade() -> None:
    c = op.get_bind()
    for target_id, options in _page_targets(c):
        subs = c.execute(
            sa.select(subscriptions.c.id, subscriptions.c.options)
            .where(subscriptions.c.target_id == target_id)
            .order_by(subscriptions.c.id)
        ).all()
        view = _view(dict(subs[0].options or {})) if subs else {}
        key = _canonical(view)
        for sub in subs:
            rest = {k: v for k, v in dict(sub.options or {}).items() if k not in _VIEW_KEYS}
            c.execute(
                subscriptions.update().where(subscriptions.c.id == sub.id).values(options=rest)
            )
        c.execute(
            targets.update().where(targets.c.id == target_id).values(options={**options, **view})
        )
        for snapshot_id, facts in _snapshots_of(c, target_id):
            views = facts.get("views")
            if not isinstance(views, dict):
                continue
            old = views.get(key)
            if old is None:  # that view had no version then: the snapshot cannot stay
                old = {}
            c.execute(
                snapshots.update()
                .where(snapshots.c.id == snapshot_id)
                .values(facts=old, digest=_digest(old))
            )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_column("view")
