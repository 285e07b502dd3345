"""One validation of what a user asks to watch, whatever door it comes through.

The chat parser (:mod:`bot.commands.grammar`), the executor's watch path
(:class:`bot.service.executor.Service`, which Discord's typed slash options and the CLI's options
reach without the parser) and the watch-list importer (:mod:`bot.commands.watchlist`,
:mod:`bot.service.watch_lists`) all call this module, so a regex or selector refused on one path is
refused on every path, with the same words. Regexes are compiled by
:func:`bot.text.html_text.compile_ignore` and selectors checked by
:func:`bot.text.html_text.check_selector`: the very functions the check uses, so whatever engine the
check runs is the engine that judges the input (a pattern the check could not compile must never be
stored, or it fails that watch's every check).

Functions named ``*_problems`` return every problem found (an importer reports all of a file's
mistakes at once); the ``check_*`` ones raise :class:`~bot.domain.errors.InvalidTarget` with them.
Messages name the option as the user wrote it (``option`` is ``"--ignore"`` in a command,
``"ignore"`` in a watch list).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network

from bot.domain.errors import InvalidTarget
from bot.domain.model import TargetRef
from bot.domain.refs import parse_target
from bot.i18n import joined, msg
from bot.net import check_url
from bot.text.html_text import check_selector, compile_ignore
from bot.text.userregex import BadPattern


def check_target(
    text: str,
    *,
    hub_hosts: frozenset[str],
    kinds: Collection[str],
    allow_private: bool,
    allowed: Sequence[IPv4Network | IPv6Network] = (),
) -> TargetRef:
    """``text`` as a target this build can watch; user-supplied URLs pass the SSRF gate first.

    A bare URL (kind ``url``) is refused here: :meth:`bot.service.executor.Service.resolve_ref`
    sniffs it into ``feed:`` or ``page:`` before calling this.
    """
    ref = parse_target(text, hub_hosts=hub_hosts)
    if ref.kind in ("page", "feed", "url"):
        check_url(ref.locator, allow_private=allow_private, allowed=allowed)
    if ref.kind == "url":
        raise InvalidTarget(
            msg(
                "{given}: say what to watch at this URL: feed:{url} or page:{url} (the watch "
                "command finds out by itself)",
                given=repr(text),
                url=ref.locator,
            )
        )
    if ref.kind not in kinds:
        raise InvalidTarget(
            msg(
                "{given}: {kind} targets are not supported in this version (supported: {kinds})",
                given=repr(text),
                kind=ref.kind,
                kinds=", ".join(sorted(kinds)),
            )
        )
    return ref


def ignore_problems(patterns: Iterable[str], option: str = "--ignore") -> list[str]:
    """One line per pattern the check's regex engine cannot compile."""
    problems: list[str] = []
    for pattern in patterns:
        try:
            compile_ignore([pattern])
        except BadPattern as e:  # RE2's refusal already names the pattern and the construct
            problems.append(f"{option} {e}")
        except Exception as e:  # whichever engine compiles them, its error is the user's typo
            why = str(e).splitlines()[0] if str(e) else type(e).__name__
            said = msg(
                "{option} {pattern} is not a valid regex: {why}",
                option=option,
                pattern=repr(pattern),
                why=why,
            )
            problems.append(said)
    return problems


def select_problems(css: str | None, option: str = "--select") -> list[str]:
    """The selector's problem, if it is not valid CSS (an empty selector means none)."""
    if css is None or not css.strip():
        return []
    try:
        check_selector(css)
    except ValueError as e:
        return [f"{option} {e}"]
    return []


def option_problems(
    *,
    select: str | None = None,
    ignore: Iterable[str] = (),
    prefix: str = "--",
) -> list[str]:
    """Problems of the options whatever the target's kind: selector and regex syntax."""
    return select_problems(select, f"{prefix}select") + ignore_problems(ignore, f"{prefix}ignore")


def view_problems(
    kind: str,
    *,
    select: str | None = None,
    ignore: Collection[str] = (),
    keywords: Collection[str] = (),
    backfill: int = 0,
    prefix: str = "--",
) -> list[str]:
    """Every problem of a watch's options for a target of ``kind``: syntax, and options that
    do not apply to that kind."""
    problems: list[str] = []
    if (select or ignore) and kind != "page":
        problems.append(
            msg(
                "{select} and {ignore} apply to page: targets only",
                select=f"{prefix}select",
                ignore=f"{prefix}ignore",
            )
        )
    else:
        problems += option_problems(select=select, ignore=ignore, prefix=prefix)
    if keywords and kind != "feed":
        problems.append(msg("{option} applies to feed: targets only", option=f"{prefix}keywords"))
    if backfill and kind != "feed":
        problems.append(msg("{option} applies to feed: targets only", option=f"{prefix}backfill"))
    return problems


def check_options(*, select: str | None = None, ignore: Iterable[str] = ()) -> None:
    """Raise :class:`InvalidTarget` naming every bad selector or regex."""
    problems = option_problems(select=select, ignore=ignore)
    if problems:
        raise InvalidTarget(joined("; ", problems))


def check_view(
    ref: object,
    kind: str,
    *,
    select: str | None = None,
    ignore: Collection[str] = (),
    keywords: Collection[str] = (),
    backfill: int = 0,
) -> None:
    """Raise :class:`InvalidTarget` ("<ref>: <problems>") when the options do not fit."""
    problems = view_problems(
        kind, select=select, ignore=ignore, keywords=keywords, backfill=backfill
    )
    if problems:
        raise InvalidTarget(joined("", [f"{ref}: ", joined("; ", problems)]))
