"""What detection may know besides the two snapshots it compares. Pure.

The checker fills it from the store; every source's ``detect`` reads it (a licence that comes
back after N days is "reverted", not a new change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class History:
    """What detection may know besides the two snapshots it compares."""

    # The snapshot the previous one replaced: stored JSON in the source's own facts shape,
    # read back from the store (Any: the JSON boundary), typed again by the source's detect.
    earlier: Any = None
    prev_since: datetime | None = None  # when the previous snapshot was taken
    now: datetime | None = None
