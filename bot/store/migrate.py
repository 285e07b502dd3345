"""Apply Alembic migrations from inside policybot (``policybot db upgrade`` and ``run``).

The migration scripts ship inside the package, so an installed wheel can upgrade its own
database without an ``alembic.ini`` in the working directory.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\b[^=]*=\s*(\([^)]*\)|[^\n]*)", re.M)
_MIGRATION_LOCK = 0x706F6C696379  # "policy": any constant shared by every replica


def alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revision() -> str | None:
    """The one head of the shipped migrations, read from the scripts' ``revision`` and
    ``down_revision`` lines (None when that is not one clear head: then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        if found:
            revisions.add(found.group(1))
        down = _DOWN.search(text)
        if down:
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run at every start (no-op when current).

    When the database is already at the head, Alembic is not even imported: it costs about
    0.15 s of start-up CPU, a quarter of a ``policybot check`` over 2,000 unchanged pages.
    """
    head = head_revision() if revision == "head" else None
    if head is not None and current_revision(engine) == head:
        return
    from alembic import command

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
