"""Who holds a lease, and how another process can tell that holder is dead.

An owner id is a random UUID: hostnames and PIDs are no identity (containers commonly all run
as PID 1, and may share a hostname), so nothing about liveness is read from the id.

Liveness comes from two places:

* a heartbeat row ``process:<owner>`` in the ``leases`` table that ``policybot run`` renews
  (:mod:`bot.runtime.runner`); an owner whose heartbeat expired is dead to every replica, on any
  host (:meth:`bot.store.claims.ClaimQueries.release_dead_owners`);
* an exclusive ``flock`` on ``<dir>/<owner>.lock`` that each process holds for its lifetime
  (:class:`OwnerLock`). The kernel drops the lock when the process dies, however it dies, so a
  process that can take a predecessor's lock has *proof* the predecessor is gone: that is the
  only fast path ("a restarted process frees its crashed predecessor's work at once"), and it
  only ever applies to processes that share this lock directory (and so this kernel).

Either way, freeing a live owner's work by mistake costs no duplicate: every write of claimed
work is fenced by the lease owner, so the old holder can then record and send nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import uuid
from pathlib import Path

HEARTBEAT_PREFIX = "process:"


def new_owner_id() -> str:
    return uuid.uuid4().hex


def heartbeat_name(owner: str) -> str:
    return f"{HEARTBEAT_PREFIX}{owner}"


def lock_dir_for(database_url: str) -> Path:
    """Where owner lock files live: next to a SQLite file (every process sharing the database
    shares that directory), else in the system temporary directory (processes of one
    machine or container)."""
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        db = Path(database_url.removeprefix("sqlite:///"))
        return db.parent / f".{db.name}.owners"
    return Path(tempfile.gettempdir()) / "policybot-owners"


class OwnerLock:
    """An exclusive lock held for the life of this process, proving to others that it lives."""

    def __init__(self, directory: Path, owner: str) -> None:
        self.directory = directory
        self.owner = owner
        self._fd: int | None = None

    def acquire(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / f"{self.owner}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                (self.directory / f"{self.owner}.lock").unlink()
            os.close(self._fd)
            self._fd = None


def sweep_dead(directory: Path) -> set[str]:
    """The owners whose lock file is in ``directory`` and no longer held by anyone: proof
    that their processes are gone. Their files are removed.

    An owner without a lock file here (another machine, another container, a process that
    never took one) is not judged at all: its heartbeat expires or its leases run out.
    """
    dead: set[str] = set()
    try:
        paths = list(directory.glob("*.lock"))
    except OSError:
        return dead
    for path in paths:
        if not _is_uuid_hex(path.stem):
            continue
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # held: that process is alive
        else:
            with contextlib.suppress(OSError):
                path.unlink()
            dead.add(path.stem)
        finally:
            os.close(fd)  # closing drops the lock if we took it
    return dead


def _is_uuid_hex(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)
