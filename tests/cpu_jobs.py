"""Jobs for ``tests/test_cpu.py``: importable by name, as a worker process needs them."""

from __future__ import annotations

import os
import sys

from bot.cpu import process_safe
from bot.domain.errors import FailureReason, SourceError


@process_safe
def whose_pid(_: object = None) -> int:
    return os.getpid()


@process_safe
def refuse(reason: FailureReason) -> None:
    raise SourceError("refused in the worker", reason=reason)


@process_safe
def die(_: object = None) -> None:
    os._exit(3)  # what the OOM killer does to a worker: no answer, no exception


def not_marked() -> int:
    return os.getpid()


@process_safe
def loaded_modules(*jobs: object) -> list[str]:
    """The modules this worker has imported: its preload, this module, and the modules of
    ``jobs`` (functions arrive by reference: unpickling one imports its module, as it does
    for the job itself)."""
    return sorted(sys.modules)
