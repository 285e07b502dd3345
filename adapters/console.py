"""Alerts on standard output, for ``make run`` and ``policybot check`` without chat tokens.

Logs go to standard error, so standard output carries only alerts and can be piped. Upstream
text is data (design invariant 4): a page title carrying ``ESC [2J`` must not clear the
operator's terminal, so control characters are shown escaped, never written raw.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from typing import TextIO

from bot.alerts.compose import severity_text, title_and_source
from bot.domain.model import Alert, Severity
from bot.i18n import msg, render


def severity_mark(severity: Severity, lang: str) -> str:
    """``[CRITICAL]``, ``[WARNING] ``: the severity word in the reader's language, padded to
    the longest one so titles line up in a terminal."""
    return _severity_marks(lang)[severity]


@cache
def _severity_marks(lang: str) -> dict[Severity, str]:
    """Every severity's mark in ``lang``, made once per language (the catalogs are read once
    per process), not four renders per alert written."""
    marks = {s: f"[{render(severity_text(s), lang).upper()}]" for s in Severity}
    width = max(len(m) for m in marks.values())
    return {s: m.ljust(width) for s, m in marks.items()}


# C0 controls but tab and newline, DEL and C1 controls, and the bidi overrides that reorder
# what a terminal shows.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every terminal control character shown as an escape (``\\x1b``)."""
    return _CONTROLS.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text
    )


def render_text(alert: Alert) -> str:
    """A plain-text alert: severity and title, then what changed, fields, excerpt, links."""
    title, source = title_and_source(alert)
    head = f"{severity_mark(alert.severity, alert.language)} {title} ({source})"
    body = [f"  {line}" for line in alert.lines]
    body += [f"  {name}: {value}" for name, value in alert.fields]
    if alert.excerpt:
        body += ["  " + line for line in alert.excerpt.splitlines()]
    body += [f"  {link.label}: {link.url}" for link in alert.links]
    if alert.detected_at:
        detected = msg("detected {at} UTC", at=alert.detected_at)
        body.append(f"  {render(detected, alert.language)}")
    return printable("\n".join([head, *body]))


class ConsoleAdapter:
    platform = "console"
    min_interval = 0.0

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def deliver(
        self, address: str, alert: Alert, *, reply_to: str | None, nonce: str
    ) -> str | None:
        stream = self._stream or sys.stdout
        stream.write(render_text(alert) + "\n\n")
        stream.flush()
        return None
