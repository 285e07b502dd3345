"""Who holds a lease: ``host:pid:random``, so a restarted process can tell which leases belong to
processes on this machine that no longer exist (a crash, ``kill -9``) and take their work back
at once instead of waiting for the lease to run out."""

from __future__ import annotations

import os
import socket
import uuid


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def dead_local_owners(owners: set[str], host: str | None = None) -> set[str]:
    """The owners among ``owners`` that ran on this host in a process that is gone."""
    host = host or socket.gethostname()
    dead = set()
    for owner in owners:
        parts = owner.rsplit(":", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        if not _alive(int(parts[1])):
            dead.add(owner)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
