"""Reading a target through one subscription's view (a page's select/ignore).

The fetch of a target is shared, the view is not (design §2): a page snapshot holds one
version per view, and a change records the view it was seen through
(``changes.view``). These queries give one view's history and versions, so ``history`` and
``diff`` can show a channel what its own view saw and nothing another channel's did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from bot.store.rows import ChangeRow, SnapshotRow, StoreBase, _row
from bot.store.tables import changes, snapshots, targets

ViewPicker = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]


class ViewQueries(StoreBase):
    def view_history(self, target_id: int, view: str | None, limit: int = 10) -> list[ChangeRow]:
        """Changes of a target, newest first, as seen through ``view`` (a view key): those of
        that view and those every view shares (health, other kinds). ``view`` None: all."""
        query = sa.select(changes).where(changes.c.target_id == target_id)
        if view is not None:
            query = query.where(sa.or_(changes.c.view.is_(None), changes.c.view == view))
        with self.engine.connect() as c:
            rows = c.execute(query.order_by(changes.c.id.desc()).limit(limit))
            return [_row(ChangeRow, r) for r in rows]

    def view_versions(
        self, target_id: int, pick: ViewPicker, limit: int = 2, scan: int = 500
    ) -> list[SnapshotRow]:
        """The newest ``limit`` distinct versions of one view, newest first, each a snapshot
        whose ``facts`` are that view's entry (``pick`` takes it out of the whole facts,
        e.g. ``lambda f: source.view_facts(f, key)``). A snapshot that only another view
        moved is skipped; at most ``scan`` snapshots are read."""
        out: list[SnapshotRow] = []
        query = (
            sa.select(snapshots)
            .where(snapshots.c.target_id == target_id)
            .order_by(snapshots.c.id.desc())
            .limit(scan)
        )
        with self.engine.connect() as c:
            for row in c.execute(query):
                snap: SnapshotRow = _row(SnapshotRow, row)
                facts = pick(snap.facts)
                if facts is None:
                    if out:
                        break  # the view did not exist before: its versions end here
                    continue
                if out and dict(out[-1].facts) == dict(facts):
                    out[-1] = replace(out[-1], taken_at=snap.taken_at, id=snap.id)
                    continue  # the same version, taken earlier: keep the oldest time
                if len(out) == limit:
                    break
                out.append(replace(snap, facts=facts))
        return out

    def refetch_in_full(self, target_id: int) -> None:
        """Forget the target's validators, so its next check fetches and extracts the body
        even if it did not change: a view that has no version yet (a new subscription's
        select/ignore) needs one. The versions of the other views stay."""
        with self.engine.begin() as c:
            c.execute(
                targets.update()
                .where(targets.c.id == target_id)
                .values(etag=None, last_modified=None, body_digest=None)
            )
