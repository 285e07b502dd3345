"""Channel delivery settings as the deliver and check stages read them: each channel's own
settings over its workspace's defaults over :class:`~bot.alerts.timing.ChannelPrefs`' defaults.

Its own module because both the check queries (a batch prefetches its channels' settings) and
the held-alert queries read it, and the store is built from the check queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from bot.alerts.timing import ChannelPrefs, QuietHours, parse_clock
from bot.store.tables import channels, workspaces
from bot.store.tenants import workspace_of


def _prefs(row: Any, default: ChannelPrefs) -> ChannelPrefs:
    m = row._mapping
    quiet = None
    if m["quiet_start"] and m["quiet_end"] and m["quiet_tz"]:
        quiet = QuietHours(
            parse_clock(m["quiet_start"]), parse_clock(m["quiet_end"]), m["quiet_tz"]
        )
    return ChannelPrefs(
        digest_at=parse_clock(m["digest_at"]) if m["digest_at"] else default.digest_at,
        digest_tz=m["digest_tz"] or default.digest_tz,
        digest_weekday=m["digest_weekday"] if m["digest_weekday"] is not None else 0,
        quiet=quiet,
    )


def load_prefs(c: sa.Connection, names: Iterable[str]) -> dict[str, ChannelPrefs]:
    """Each channel's settings; what a channel has not set comes from its workspace's
    defaults (``settings digest``), then from :class:`ChannelPrefs`."""
    wanted = sorted(set(names))
    rows: dict[str, Any] = {}
    if wanted:
        for row in c.execute(sa.select(channels).where(channels.c.channel.in_(wanted))):
            rows[row.channel] = row
    homes = {
        name: (rows[name].workspace if name in rows else None) or workspace_of(name)
        for name in wanted
    }
    defaults: dict[str, ChannelPrefs] = {}
    spaces = sorted({w for w in homes.values() if w})
    if spaces:
        query = sa.select(workspaces).where(
            workspaces.c.workspace.in_(spaces), workspaces.c.digest_at.is_not(None)
        )
        for ws in c.execute(query):
            defaults[ws.workspace] = ChannelPrefs(
                digest_at=parse_clock(ws.digest_at), digest_tz=ws.digest_tz or "UTC"
            )
    found: dict[str, ChannelPrefs] = {}
    for name in wanted:
        home = homes[name]
        default = defaults.get(home, ChannelPrefs()) if home else ChannelPrefs()
        found[name] = _prefs(rows[name], default) if name in rows else default
    return found
