"""Which language a reader gets: the first usable one of several candidates. Pure."""

from __future__ import annotations

DEFAULT_LANGUAGE = "en"
# The languages with a catalog (bot/i18n/locale/<lang>); English is the message ids themselves.
SUPPORTED = ("en", "it")


def normalise(tag: str | None) -> str | None:
    """``it-IT`` / ``it_IT`` / ``IT`` → ``it``; a language we have no catalog for → None."""
    if not tag:
        return None
    base = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in SUPPORTED else None


def pick_language(*candidates: str | None) -> str:
    """The first candidate we can speak, most specific first (channel setting, workspace
    setting, the platform's locale, the operator's default); English when none is usable, so
    an unknown locale ("fr") never leaves a reader without a message."""
    for tag in candidates:
        lang = normalise(tag)
        if lang is not None:
            return lang
    return DEFAULT_LANGUAGE
