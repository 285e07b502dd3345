"""One ``policybot run`` per SQLite file.

SQLite has one writer and no row locks, so two long-running bots on one file would check and
deliver everything twice. ``run`` takes an exclusive OS lock on ``<db>.lock`` for its lifetime;
a second ``run`` is refused with a clear message (short CLI commands may still run beside it).
PostgreSQL needs no such lock: there, replicas share the work through row claims.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.domain.errors import ConfigError


def sqlite_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


@contextmanager
def single_runner(database_url: str) -> Iterator[None]:
    path = sqlite_path(database_url)
    if path is None:
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise ConfigError(
                f"another `policybot run` (pid {holder}) is already using {path}; SQLite "
                "supports one running bot. Stop it, or use PostgreSQL "
                "(POLICYBOT_DATABASE_URL=postgresql://…) to run several replicas."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
