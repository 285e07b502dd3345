"""An alert said in one language: every message of ours rendered, upstream text untouched. Pure.

The outbox keeps alerts as messages (ids and parameters); the dispatcher renders each one for
the channel it goes to, so one change reaches an Italian workspace in Italian and an English
one in English. Adapters only ever see plain strings.
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain.model import Action, Alert, Link
from bot.i18n import render


def localized(alert: Alert, lang: str) -> Alert:
    """``alert`` with every text rendered in ``lang`` (and ``language`` set to it)."""

    def say(text: str) -> str:
        return render(text, lang)

    return replace(
        alert,
        title=say(alert.title),
        source_label=say(alert.source_label),
        lines=tuple(say(line) for line in alert.lines),
        excerpt=say(alert.excerpt) if alert.excerpt is not None else None,
        fields=tuple((say(k), say(v)) for k, v in alert.fields),
        links=tuple(Link(say(lk.label), lk.url) for lk in alert.links),
        actions=tuple(Action(a.kind, say(a.label), a.value) for a in alert.actions),
        language=lang,
    )
