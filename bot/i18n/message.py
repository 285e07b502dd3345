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

Every message says its English when it is made, and again when an alert is read back from the
outbox, so English is said without Babel where it can be said exactly as Babel would (the ids
are the English; integers and naive or fixed-offset dates are written directly), and Babel is
imported only when another language (or an English float) first needs it: an English-only
``policybot check`` never loads it (~27 ms of CPU at start-up).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from typing import Any, cast

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
        held = dict(params) if params else {}
        joined_parts = parts if type(parts) is tuple else tuple(parts)
        return _made(id, plural, n, held, sep, joined_parts)

    def __reduce__(self) -> tuple[Any, ...]:
        """copy/pickle keep the message, not just its text, and its English as said: the
        changes a worker process found cross to the bot's process without being said again."""
        return (_restore, (str.__str__(self), self.__dict__))


def _made(
    id: str,
    plural: str | None,
    n: int | None,
    params: dict[str, Param],
    sep: str | None,
    parts: tuple[str, ...],
) -> Msg:
    """A :class:`Msg` from parts it may own (``params`` is not copied): what ``Msg(…)`` does,
    without the copies, for the constructors of this module that made ``params`` themselves."""
    self = str.__new__(Msg, _english(id, plural, n, params, sep, parts))
    # one new __dict__ is cheaper than six attribute writes (~0.4 µs a message)
    self.__dict__ = {
        "id": id,
        "plural": plural,
        "n": n,
        "params": params,
        "sep": sep,
        "parts": parts,
    }
    return self


def _restore(english: str, attributes: Mapping[str, Any]) -> Msg:
    self = str.__new__(Msg, english)
    self.__dict__ = dict(attributes)
    return self


def msg(id: str, **params: Param) -> Msg:
    """A message: ``msg("Licence changed")``, ``msg("moved: {old} is now {new}", old=…, new=…)``."""
    return _made(id, None, None, params, None, ())


def nmsg(singular: str, plural: str, n: int, **params: Param) -> Msg:
    """A message with plural forms chosen by ``n`` (also available as ``{n}``):
    ``nmsg("{n} change", "{n} changes", 3)``."""
    return _made(singular, plural, n, params, None, ())


def joined(sep: str, parts: Iterable[str]) -> Msg:
    """Texts side by side with neutral punctuation (``"; "``, ``" · "``), each rendered in the
    reader's language."""
    return _made("", None, None, {}, sep, parts if type(parts) is tuple else tuple(parts))


def render(text: str, lang: str) -> str:
    """``text`` in ``lang``: a :class:`Msg` is translated, any other string is upstream (or an
    old outbox row's English) and stays as it is."""
    if not isinstance(text, Msg):
        return str(text)
    if lang == "en":
        return str.__str__(text)
    return _say(text.id, text.plural, text.n, text.params, text.sep, text.parts, lang)


def _english(
    id: str,
    plural: str | None,
    n: int | None,
    params: Mapping[str, Param],
    sep: str | None,
    parts: tuple[str, ...],
) -> str:
    """What ``_say(…, "en")`` says, on the path every message takes when it is made (and made
    again when an alert is read back from the outbox): the ids are the English, so there is
    no catalog to look up, and the common parameters (our texts, upstream text, integers,
    UTC dates) are written without Babel. Anything else, and a template that does not format,
    goes the general way, so what is said is the same."""
    if sep is not None:
        if all(type(p) is str or type(p) is Msg for p in parts):
            return sep.join(parts)  # a Msg joins as its English, a str as itself
        return _say(id, plural, n, params, sep, parts, "en")
    template = id if plural is None or n == 1 else plural
    if not params and n is None:
        return template
    values: dict[str, Any] = {}
    for key, value in params.items():
        kind = type(value)
        if kind is str or kind is Msg:  # formats as its text, as render(value, "en") says it
            values[key] = value
        elif kind is int:
            values[key] = f"{value:,}"
        elif kind is datetime:
            values[key] = _english_datetime(cast(datetime, value))
        else:
            values[key] = _param(value, "en")
    if n is not None and "n" not in values:
        values["n"] = f"{n:,}" if type(n) is int else _param(n, "en")
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # the general path says how it failed
        return _say(id, plural, n, params, sep, parts, "en")


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


def _english_datetime(value: datetime) -> str:
    """Babel's ``yyyy-MM-dd HH:mm`` of ``value`` in its own zone, written directly (Babel
    costs ~20 µs a date and every alert carries one). Exact for a naive date (Babel reads it
    as UTC) and a fixed-offset zone (``datetime.timezone``, what the bot's dates carry), where
    Babel's conversion to the date's own zone changes nothing; other zones (pytz may
    normalise) go through Babel."""
    tz = value.tzinfo
    if tz is None or type(tz) is timezone:
        return (
            f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}"
        )
    from babel.dates import format_datetime

    return format_datetime(value, _DATE_PATTERNS["en"], tzinfo=tz, locale="en")


def _param(value: Param, lang: str) -> str:
    if isinstance(value, str):
        return render(value, lang)
    if isinstance(value, datetime):
        if lang == "en":
            return _english_datetime(value)
        tz = value.tzinfo
        if tz is None or type(tz) is timezone:  # only the minute shows: format it once
            minute = value.replace(second=0, microsecond=0)
            return _local_datetime(minute, tz, value.fold, lang)
        return _local_datetime.__wrapped__(value, tz, value.fold, lang)
    if isinstance(value, bool):
        return str(value)
    if lang == "en" and isinstance(value, int):
        # What Babel says for an English integer ("2,000"), without its ~9 µs per number: every
        # message is said in English once when it is made, so this is on every alert's path.
        return f"{value:,}"
    if type(value) is int or type(value) is float:
        return _decimal(type(value).__name__, value, lang)
    from babel.numbers import format_decimal

    return format_decimal(value, locale=lang)


@lru_cache(maxsize=4096)
def _decimal(kind: str, value: float, lang: str) -> str:
    """Babel's number for ``lang`` (~9 µs each), once per value: counts repeat from alert to
    alert. ``kind`` is in the key because 1 and 1.0 are equal keys yet may not read alike."""
    from babel.numbers import format_decimal

    return format_decimal(value, locale=lang)


@lru_cache(maxsize=4096)
def _local_datetime(minute: datetime, tz: tzinfo | None, fold: int, lang: str) -> str:
    """A date as ``lang`` writes it (two Babel skeletons and the locale's way of joining
    them, ~60 µs), once per minute shown: an all-changed cycle's alerts share a few minutes.
    ``tz`` and ``fold`` are in the key because dates with different zones compare equal when
    they are the same instant, yet are written with their own wall-clock time. Only naive and
    fixed-offset dates are cut to the minute (a pytz zone may move a date by seconds)."""
    from babel import Locale
    from babel.dates import format_datetime, format_skeleton

    pattern = _DATE_PATTERNS.get(lang)
    if pattern is not None:
        return format_datetime(minute, pattern, tzinfo=minute.tzinfo, locale=lang)
    # the locale's own date and 24-hour time, joined its own way: "26 nov 2026, 11:49"
    day = format_skeleton("yMMMd", minute, tzinfo=minute.tzinfo, locale=lang)
    hour = format_skeleton("Hm", minute, tzinfo=minute.tzinfo, locale=lang)
    return str(Locale.parse(lang).datetime_formats["medium"]).format(hour, day)


# -- as data (the outbox keeps alerts as JSON) ------------------------------------------------


def to_data(text: str) -> str | dict[str, Any]:
    """A text as JSON-able data: a plain string stays a string, a message becomes a dict."""
    if type(text) is str:
        return text
    if not isinstance(text, Msg):
        return str(text)
    if text.sep is not None:
        return {"join": text.sep, "parts": [to_data(p) for p in text.parts]}
    params = text.params
    out: dict[str, Any] = {
        "msg": text.id,
        "params": {k: _param_data(v) for k, v in params.items()} if params else {},
    }
    if text.plural is not None:
        out["plural"], out["n"] = text.plural, text.n
    return out


# The messages without parameters read back from data, by id ("Unwatch", "Content changed",
# "web page"): every alert carries several and they never change, so each is made once. Capped,
# because an outbox row may hold ids this version of the code does not say.
_CONSTANTS: dict[str, Msg] = {}
_CONSTANTS_MAX = 2048


def from_data(data: Any) -> str:
    """The inverse of :func:`to_data`; anything else is read as the plain string it says."""
    if type(data) is str:
        return data
    if type(data) is dict or isinstance(data, Mapping):  # JSON's dict: no ABC check
        if "join" in data:
            parts = tuple(from_data(p) for p in data.get("parts", ()))
            return _made("", None, None, {}, str(data["join"]), parts)
        if "msg" in data:
            id = str(data["msg"])
            raw = data.get("params")
            plural = data.get("plural")
            n = data.get("n")
            if not raw and plural is None and n is None:
                said = _CONSTANTS.get(id)
                if said is None:
                    said = _made(id, None, None, {}, None, ())
                    if len(_CONSTANTS) < _CONSTANTS_MAX:
                        _CONSTANTS[id] = said
                return said
            params = {str(k): _param_from(v) for k, v in raw.items()} if raw else {}
            return _made(id, plural, int(n) if n is not None else None, params, None, ())
    return str(data) if data is not None else ""


def _param_data(value: Param) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, datetime):
        return {"at": value.isoformat()}
    if isinstance(value, str):
        return to_data(value)
    return value


def _param_from(data: Any) -> Param:
    if type(data) is str:
        return data
    if (type(data) is dict or isinstance(data, Mapping)) and "at" in data:
        return datetime.fromisoformat(str(data["at"]))
    if isinstance(data, int | float) and not isinstance(data, bool):
        return data
    return from_data(data)
