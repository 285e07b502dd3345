"""Messages in the reader's language (issue 16): message ids and their catalogs. Pure.

Detection says what it found as :class:`~bot.i18n.message.Msg` values, which read as English
wherever a plain string is expected (logs, the store, the CLI) and carry their message id and
parameters, so delivery can say them again in a channel's language (:func:`render`).
"""

from bot.i18n.languages import DEFAULT_LANGUAGE, SUPPORTED, pick_language
from bot.i18n.message import Msg, from_data, joined, msg, nmsg, render, to_data

__all__ = [
    "DEFAULT_LANGUAGE",
    "SUPPORTED",
    "Msg",
    "from_data",
    "joined",
    "msg",
    "nmsg",
    "pick_language",
    "render",
    "to_data",
]
