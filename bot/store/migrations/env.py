"""Alembic environment: runs against the connection policybot hands it (see bot.store.migrate)."""

from __future__ import annotations

from alembic import context

from bot.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs alembic by hand
    raise RuntimeError("run migrations through `policybot db upgrade`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
