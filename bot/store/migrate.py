"""Apply Alembic migrations from inside policybot (``policybot db upgrade`` and ``run``).

The migration scripts ship inside the package, so an installed wheel can upgrade its own
database without an ``alembic.ini`` in the working directory.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x706F6C696379  # "policy": any constant shared by every replica


def alembic_config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run at every start (no-op when current)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together must not run the same migration twice: the second
            # waits here, then finds the schema current. A transaction-scoped lock, released
            # at commit, so it is safe behind connection poolers.
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
            )
        command.upgrade(alembic_config(connection), revision)


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        row = None
        if sa.inspect(connection).has_table("alembic_version"):
            row = connection.execute(sa.text("SELECT version_num FROM alembic_version")).first()
        return row[0] if row else None
