"""Regexes typed by users (and the built-in ones that scan upstream text), on RE2. Pure.

Python's ``re`` backtracks: ``(a+)+$`` against 28 ``a`` and a ``!`` takes 37 s, doubling with
every extra character, and it holds the GIL the whole time, so not even a worker thread saves
the event loop that acks Slack commands (design §6 invariant 10). RE2 (``google-re2``) runs in
time linear in the text whatever the pattern, and refuses the constructs that need
backtracking (backreferences, lookaround, atomic groups, possessive quantifiers). Those are
refused when the watch is created, with a message naming the construct, never at check time.

RE2's classes are ASCII (``\\d`` is ``[0-9]``, ``\\b`` an ASCII word boundary); ``\\pL``,
``\\p{Greek}`` … are there for the rest.
"""

from __future__ import annotations

import re
import warnings
from typing import Protocol

import re2

# Compiled programs are capped by RE2 itself (max_mem); this only keeps error logging off
# stderr (absl would print every refused pattern).
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False

# RE2's error text → what the user wrote that it cannot run.
_UNSUPPORTED: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"invalid escape sequence: \\[1-9]"), "backreferences (\\1, \\2 …)"),
    (re.compile(r"invalid escape sequence: \\k|invalid perl operator: \(\?P="),
     "named backreferences"),
    (re.compile(r"invalid perl operator: \(\?<="), "lookbehind (?<=…)"),
    (re.compile(r"invalid perl operator: \(\?<!"), "negative lookbehind (?<!…)"),
    (re.compile(r"invalid perl operator: \(\?="), "lookahead (?=…)"),
    (re.compile(r"invalid perl operator: \(\?!"), "negative lookahead (?!…)"),
    (re.compile(r"invalid perl operator: \(\?>"), "atomic groups (?>…)"),
    (re.compile(r"invalid perl operator: \(\?#"), "comments (?#…)"),
    (re.compile(r"bad repetition operator: [*+?}]\+"), "possessive quantifiers (*+, ++, ?+)"),
    (re.compile(r"invalid escape sequence: \\Z"), "\\Z (use \\z or $)"),
    (re.compile(r"invalid escape sequence: \\G"), "\\G"),
    (re.compile(r"invalid repetition size"), "repeat counts above 1000"),
    (re.compile(r"pattern too large"), "patterns this large"),
)  # fmt: skip


class Rule(Protocol):
    """What a compiled rule must do: find and remove what it matches (``re`` and RE2 both do)."""

    def sub(self, repl: str, string: str, /) -> str: ...

    def search(self, string: str, /) -> object: ...


class BadPattern(ValueError):
    """A user regex RE2 cannot run; the message says which construct and why."""


def compile_user(pattern: str) -> re2._Regexp[str]:
    """Compile ``pattern`` on RE2 or raise :class:`BadPattern` with a readable message."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as e:
        raise BadPattern(explain(pattern, e)) from None
    except (TypeError, ValueError) as e:  # e.g. a lone surrogate cannot be UTF-8 encoded
        raise BadPattern(f"{pattern!r} is not a valid regex: {e}") from None


def explain(pattern: str, error: Exception) -> str:
    """A readable reason for RE2's refusal of ``pattern``.

    Plain syntax errors are told in Python's words (they name the position); compiling with
    ``re`` is cheap and safe, only matching with it can take exponential time.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and the like
            re.compile(pattern)
    except re.error as e:
        return f"{pattern!r} is not a valid regex: {e}"
    raw = error.args[0] if error.args else error
    detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    for marker, construct in _UNSUPPORTED:
        if marker.search(detail):
            return (
                f"{pattern!r} uses {construct}, which policybot does not support: regexes "
                "run on RE2, which guarantees linear time and so has no backreferences, "
                "lookaround or atomic groups"
            )
    return f"{pattern!r} is not a valid regex: {detail}"
