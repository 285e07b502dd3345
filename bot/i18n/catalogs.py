"""The translation catalogs, read from the ``.po`` files kept in the repo.

The ``.po`` files are the only form kept (no compiled ``.mo`` a release could forget to
rebuild): each is parsed with Babel and compiled in memory the first time its language is
needed, once per process.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from io import BytesIO

DOMAIN = "policybot"


def po_path(lang: str) -> resources.abc.Traversable:
    return resources.files("bot.i18n") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """``lang``'s catalog; English (the message ids themselves) or a language without a
    catalog translates nothing."""
    path = po_path(lang)
    if lang == "en" or not path.is_file():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # only when a catalog is first read
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
