"""Engines configured for this workload on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def create_engine(url: str) -> sa.Engine:
    """An engine with the settings each backend needs to be safe for this workload."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # A database that restarts must cost a few failed ticks, never a hung process: every
    # connection attempt and every statement is bounded.
    parsed = sa.engine.make_url(url)
    given = parsed.query.get("options")
    given = " ".join(given) if isinstance(given, tuple) else given
    options = " ".join(filter(None, [given, "-c statement_timeout=60000 -c lock_timeout=30000"]))
    return sa.create_engine(
        parsed.difference_update_query(["options"]),
        pool_pre_ping=True,
        pool_timeout=30,
        connect_args={
            "connect_timeout": 10,
            "options": options,
            "keepalives": 1,
            "keepalives_idle": 30,
        },
    )
