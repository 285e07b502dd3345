"""A message that can be said in any language we have a catalog for. Pure.

A :class:`Msg` *is* a string, its English text, so everything that only shows or stores text
(logs, the store's history, the CLI) keeps working unchanged; it also keeps its message id and
parameters, so delivery can render it again in a channel's language and an alert queued in the
outbox keeps them as data (:func:`to_data`). Parameters are named (``{target}``), never
concatenated, so a translator may reorder them; plural messages pick their form from ``n`` with
the language's own plural rules; numbers and dates are formatted for the locale. Upstream text
(diff lines, feed titles, licence ids) goes in as a plain ``str`` parameter and is never
translated.

Message ids are marked with :func:`msg` and :func:`nmsg` (Babel's extractor keywords
``msg`` and ``nmsg:1,2``), so the catalog test can list every id the code can produce.

Why a ``str`` subclass: every consumer that only shows or stores text kept working unchanged
while the messages were converted, and can be converted one by one. The price: editing a
message as a string (slicing, ``+``, an f-string) yields plain English, so compose with
:func:`msg` and :func:`joined` instead; ``tests/test_i18n.py`` fails on English left in an
Italian alert.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from babel import Locale
from babel.dates import format_datetime, format_skeleton
from babel.numbers import format_decimal

from bot.i18n.catalogs import translations

log = logging.getLogger(__name__)

Param = str | int | float | datetime


class Msg(str):
    """A message id with its parameters (or a join of texts), reading as its English text."""

    id: str
    plural: str | None
    n: int | None
    params: Mapping[str, Param]
    sep: str | None
    parts: tuple[str, ...]

    def __new__(
        cls,
        id: str,
        *,
        plural: str | None = None,
        n: int | None = None,
        params: Mapping[str, Param] | None = None,
        sep: str | None = None,
        parts: Iterable[str] = (),
    ) -> Msg:
        held = dict(params or {})
        joined_parts = tuple(parts)
        english = _say(id, plural, n, held, sep, joined_parts, "en")
        self = super().__new__(cls, english)
        self.id, self.plural, self.n, self.params = id, plural, n, held
        self.sep, self.parts = sep, joined_parts
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # copy/pickle keep the message, not just text
        return (_rebuild, (to_data(self),))


def _rebuild(data: Mapping[str, Any]) -> Msg:
    out = from_data(dict(data))
    assert isinstance(out, Msg)
    return out


def msg(id: str, **params: Param) -> Msg:
    """A message: ``msg("Licence changed")``, ``msg("moved: {old} is now {new}", old=…, new=…)``."""
    return Msg(id, params=params)


def nmsg(singular: str, plural: str, n: int, **params: Param) -> Msg:
    """A message with plural forms chosen by ``n`` (also available as ``{n}``):
    ``nmsg("{n} change", "{n} changes", 3)``."""
    return Msg(singular, plural=plural, n=n, params=params)


def joined(sep: str, parts: Iterable[str]) -> Msg:
    """Texts side by side with neutral punctuation (``"; "``, ``" · "``), each rendered in the
    reader's language."""
    return Msg("", sep=sep, parts=parts)


def render(text: str, lang: str) -> str:
    """``text`` in ``lang``: a :class:`Msg` is translated, any other string is upstream (or an
    old outbox row's English) and stays as it is."""
    if not isinstance(text, Msg):
        return str(text)
    if lang == "en":
        return str.__str__(text)
    return _say(text.id, text.plural, text.n, text.params, text.sep, text.parts, lang)


def _say(
    id: str,
    plural: str | None,
    n: int | None,
    params: Mapping[str, Param],
    sep: str | None,
    parts: tuple[str, ...],
    lang: str,
) -> str:
    if sep is not None:
        return sep.join(render(p, lang) for p in parts)
    if lang == "en":  # the ids are English (every Msg says itself in English once, when made)
        template = id if plural is None or n == 1 else plural
    else:
        tr = translations(lang)
        template = tr.ngettext(id, plural, n or 0) if plural is not None else tr.gettext(id)
    if not params and n is None:
        return template
    values = {k: _param(v, lang) for k, v in params.items()}
    if n is not None:
        values.setdefault("n", _param(n, lang))
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # a broken translation: say it in English
        log.warning("message %r has a broken %s translation", id, lang)
        english = (id if n == 1 else plural) if plural is not None else id
        return english.format(**values)


# Dates as each language writes them; English keeps the ISO-like form alerts always used.
_DATE_PATTERNS = {"en": "yyyy-MM-dd HH:mm"}


def _param(value: Param, lang: str) -> str:
    if isinstance(value, str):
        return render(value, lang)
    if isinstance(value, datetime):
        pattern = _DATE_PATTERNS.get(lang)
        if pattern is not None:
            return format_datetime(value, pattern, tzinfo=value.tzinfo, locale=lang)
        # the locale's own date and 24-hour time, joined its own way: "26 nov 2026, 11:49"
        day = format_skeleton("yMMMd", value, tzinfo=value.tzinfo, locale=lang)
        hour = format_skeleton("Hm", value, tzinfo=value.tzinfo, locale=lang)
        return str(Locale.parse(lang).datetime_formats["medium"]).format(hour, day)
    if isinstance(value, bool):
        return str(value)
    if lang == "en" and isinstance(value, int):
        # What Babel says for an English integer ("2,000"), without its ~9 µs per number: every
        # message is said in English once when it is made, so this is on every alert's path.
        return f"{value:,}"
    return format_decimal(value, locale=lang)


# -- as data (the outbox keeps alerts as JSON) ------------------------------------------------


def to_data(text: str) -> str | dict[str, Any]:
    """A text as JSON-able data: a plain string stays a string, a message becomes a dict."""
    if not isinstance(text, Msg):
        return str(text)
    if text.sep is not None:
        return {"join": text.sep, "parts": [to_data(p) for p in text.parts]}
    out: dict[str, Any] = {
        "msg": text.id,
        "params": {k: _param_data(v) for k, v in text.params.items()},
    }
    if text.plural is not None:
        out["plural"], out["n"] = text.plural, text.n
    return out


def from_data(data: Any) -> str:
    """The inverse of :func:`to_data`; anything else is read as the plain string it says."""
    if isinstance(data, Mapping):
        if "join" in data:
            return joined(str(data["join"]), [from_data(p) for p in data.get("parts", ())])
        if "msg" in data:
            params = {str(k): _param_from(v) for k, v in (data.get("params") or {}).items()}
            n = data.get("n")
            return Msg(
                str(data["msg"]),
                plural=data.get("plural"),
                n=int(n) if n is not None else None,
                params=params,
            )
    return str(data) if data is not None else ""


def _param_data(value: Param) -> Any:
    if isinstance(value, datetime):
        return {"at": value.isoformat()}
    if isinstance(value, str):
        return to_data(value)
    return value


def _param_from(data: Any) -> Param:
    if isinstance(data, Mapping) and "at" in data:
        return datetime.fromisoformat(str(data["at"]))
    if isinstance(data, int | float) and not isinstance(data, bool):
        return data
    return from_data(data)
