"""Engines configured for this workload on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any, Protocol

import sqlalchemy as sa

from bot.domain.errors import ConfigError, DatabaseUnavailable

BACKENDS = ("sqlite", "postgresql")


def masked_url(url: str) -> str:
    """``url`` fit for a log line or an error: the password replaced by ``***``."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        # Not parseable: still hide whatever sits between "user:" and "@".
        return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def parse_database_url(url: str) -> sa.URL:
    """The URL, or a ConfigError naming it (masked) when it is not a database URL we support."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        parsed = None
    if parsed is None or parsed.get_backend_name() not in BACKENDS:
        raise ConfigError(
            f"POLICYBOT_DATABASE_URL={masked_url(url)!r} is not a database URL: use "
            "sqlite:///path/to/file.db or postgresql://user:password@host/database"
        )
    return parsed


def unavailable(url: str, error: BaseException) -> DatabaseUnavailable:
    """One line for a database that does not answer: its masked URL and the driver's reason
    (the first line of it; psycopg's message repeats itself per address tried)."""
    cause = error.orig if isinstance(error, sa.exc.DBAPIError) and error.orig else error
    lines = [ln.strip() for ln in str(cause).splitlines() if ln.strip()]
    reason = lines[0] if lines else type(cause).__name__
    return DatabaseUnavailable(f"cannot reach the database at {masked_url(url)}: {reason}")


class HasEngine(Protocol):
    """What a query module needs of the store: its engine. Query modules that the store is built
    from take this instead of :class:`bot.store.store.Store`, so they never import it back."""

    engine: sa.Engine


def create_engine(url: str) -> sa.Engine:
    """An engine with the settings each backend needs to be safe for this workload; a
    ConfigError for a URL that is not one of our databases."""
    parse_database_url(url)
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
            # Reads straight from the OS's page cache instead of a copy into SQLite's own 2 MiB
            # cache per page read: a claim of the outbox scans every pending delivery (a few
            # KiB each); with thousands pending that copying was most of the claim's CPU.
            cur.execute("PRAGMA mmap_size=268435456")
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
