"""One command grammar for the CLI, Slack and Discord: text → Command → Reply.

``parse`` is pure and raises :class:`~bot.domain.errors.UsageError` with a message written for the
person who typed the command (naming the mistake, suggesting the closest word). Front ends with
typed options (the CLI's typer options, Discord's slash options) build through the builders
(:func:`watch_command`, :func:`digest_command`, …), which run the very same validation, so a
mistake reads the same whichever way it was typed. The executor
(:class:`bot.service.executor.Service`) runs a Command against the store and returns a neutral
:class:`Reply` that each adapter renders its own way.

What a command needs (:func:`needs`: does it change watches, does it fetch) is declared here once;
every front end and the executor ask it, so no list of "commands that change watches" is kept
anywhere else.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.alerts import timing as routing
from bot.commands.validation import option_problems
from bot.domain.errors import UsageError
from bot.domain.model import Severity
from bot.i18n import DEFAULT_LANGUAGE, joined, msg, render


@dataclass(frozen=True, slots=True)
class Watch:
    refs: tuple[str, ...]
    to: str | None = None
    select: str | None = None
    ignore: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    min_severity: Severity = Severity.INFO
    min_severity_given: bool = False  # else the workspace's default minimum severity applies
    backfill: int = 0  # feeds: post the newest N entries once
    digest: str | None = None  # "daily" | "weekly" | "off" (None: immediate, as before)
    digest_all: bool = False  # critical changes wait for the digest too
    at: str | None = None  # with --digest: the channel's digest time "HH:MM"
    tz: str | None = None  # with --digest: the channel's digest time zone


@dataclass(frozen=True, slots=True)
class Unwatch:
    ref: str
    to: str | None = None


@dataclass(frozen=True, slots=True)
class ListWatches:
    to: str | None = None


@dataclass(frozen=True, slots=True)
class History:
    ref: str | None = None
    limit: int = 10


@dataclass(frozen=True, slots=True)
class Diff:
    ref: str


@dataclass(frozen=True, slots=True)
class Check:
    refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Mute:
    ref: str
    days: float = 7.0
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Presets:
    name: str | None = None  # one preset's sources, or the list of presets


@dataclass(frozen=True, slots=True)
class Digest:
    """The channel's digest time; all None shows the current settings."""

    at: str | None = None
    tz: str | None = None
    weekday: str | None = None
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Quiet:
    """The channel's quiet hours: ``window`` "22:00-08:00", "off", or None to show them."""

    window: str | None = None
    tz: str | None = None
    to: str | None = None


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    """A workspace's (Slack team's, Discord server's) settings; ``key`` None shows them.

    ``who`` (everyone | managers | admins), ``severity`` (the default minimum severity of new
    watches), ``digest`` (the default digest time, ``value`` "HH:MM" with ``tz``), ``language``
    (stored for now). ``workspace`` is the operator's ``--workspace slack:T0123``."""

    key: str | None = None
    value: str | None = None
    tz: str | None = None
    workspace: str | None = None


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None


Command = (
    Watch
    | Unwatch
    | ListWatches
    | History
    | Diff
    | Check
    | Mute
    | Presets
    | Digest
    | Quiet
    | WorkspaceSettings
    | Help
)


@dataclass(frozen=True, slots=True)
class Needs:
    """What running a command takes, so each front end decides permissions and acks alike.

    ``changes_watches``: it changes what a channel watches or how it is told (refused to whoever
    may not change watches there). ``fetches``: it may reach the network before it can answer
    (chat front ends acknowledge first, then answer)."""

    changes_watches: bool = False
    fetches: bool = False

    @property
    def read_only(self) -> bool:
        return not self.changes_watches


_CHANGES = Needs(changes_watches=True)
_READS = Needs()
# One row per Command type (tests/test_one_executor.py fails when a new Command has none).
NEEDS: dict[type[Command], Needs] = {
    Watch: Needs(changes_watches=True, fetches=True),  # takes the baseline
    Unwatch: _CHANGES,
    ListWatches: _READS,
    History: _READS,
    Diff: _READS,
    Check: Needs(fetches=True),
    Mute: _CHANGES,
    Presets: _READS,
    Digest: _CHANGES,  # without a time it only shows (shows_only)
    Quiet: _CHANGES,  # without a window it only shows
    WorkspaceSettings: _CHANGES,  # without a key it only shows
    Help: _READS,
}


def shows_only(command: Command) -> bool:
    """A settings command with nothing to set (``digest``, ``quiet``, ``settings``) only shows
    the current settings: anyone may read them."""
    if isinstance(command, Digest):
        return command.at is None
    if isinstance(command, Quiet):
        return command.window is None
    if isinstance(command, WorkspaceSettings):
        return command.key is None
    return False


def needs(command: Command) -> Needs:
    """What ``command`` needs: its type's row of :data:`NEEDS`, read-only when it only shows."""
    declared = NEEDS[type(command)]
    if declared.changes_watches and shows_only(command):
        return Needs(changes_watches=False, fetches=declared.fetches)
    return declared


@dataclass(frozen=True, slots=True)
class Reply:
    """A platform-neutral answer: lines of text; ``ok`` False marks a refusal or error.

    Lines are messages (:func:`bot.i18n.msg`) kept as such until a front end shows them, in
    ``language``: the asker's, which the Service chooses (:meth:`Service.reply_language`), so
    a test can still see which message each line is.
    """

    lines: tuple[str, ...]
    ok: bool = True
    ephemeral: bool = True
    code: str | None = None  # optional preformatted block (a diff): upstream text, as it is
    details: dict[str, object] = field(default_factory=dict)
    language: str = DEFAULT_LANGUAGE

    def said(self) -> tuple[str, ...]:
        """The lines in the reply's language: what a front end shows."""
        return tuple(render(line, self.language) for line in self.lines)

    @property
    def text(self) -> str:
        body = "\n".join(self.said())
        return f"{body}\n{self.code}" if self.code else body


USAGE = {
    "watch": "watch <target> [<target>…] [--select CSS] [--ignore REGEX]… [--keywords a,b] "
    "[--backfill N] [--min-severity info|notice|warning|critical] "
    "[--digest daily|weekly|off [--digest-all] [--at HH:MM] [--tz Europe/Rome]]",
    "unwatch": "unwatch <target or #id>",
    "list": "list",
    "history": "history [<target>] [--limit N]",
    "diff": "diff <target>",
    "check": "check [<target>…]",
    "mute": "mute <target> [7d]",
    "presets": "presets [<name>]",
    "digest": "digest [HH:MM [Europe/Rome] [mon…sun]]",
    "quiet": "quiet [HH:MM-HH:MM [Europe/Rome] | off]",
    "settings": "settings [who everyone|managers|admins | severity info|notice|warning|critical "
    "| digest HH:MM [Europe/Rome] | language en|it]",
    "help": "help [command]",
}

HELP_TEXT: tuple[str, ...] = (
    msg(
        "Targets: hf:owner/name, hf:datasets/owner/name, hf:spaces/owner/name, github:owner/repo, "
        "page:<url>, feed:<url>, or any huggingface.co, github.com or web URL."
    ),
    msg(
        "Whole organisations: hf:org/<owner> (every public model, dataset and space), "
        "github:org/<owner> (every public repo's licence)."
    ),
    msg(
        "Pages: --select CSS picks the region that matters, --ignore REGEX drops the lines it "
        "matches."
    ),
    msg(
        "Feeds: feed:<url> or the feed's URL; --keywords a,b,-c picks entries (-c excludes), "
        "--backfill N posts the newest N once."
    ),
    msg(
        "Presets: watch preset:huggingface (docker, github, openai, reddit) watches a platform's "
        "terms, pricing, news and flagship licences; presets lists them."
    ),
    msg("Commands:"),
    *(f"  {usage}" for usage in USAGE.values()),  # command syntax: never translated
)

_OPTIONS: dict[str, dict[str, str]] = {
    # option → kind: "value" (one), "multi" (repeatable), "int", "severity", "flag" (no value)
    "watch": {
        "--to": "value",
        "--select": "value",
        "--ignore": "multi",
        "--keywords": "value",
        "--backfill": "int",
        "--min-severity": "severity",
        "--digest": "value",
        "--digest-all": "flag",
        "--at": "value",
        "--tz": "value",
    },
    "unwatch": {"--to": "value"},
    "list": {"--to": "value"},
    "history": {"--limit": "int"},
    "diff": {},
    "check": {},
    "mute": {"--to": "value"},
    "presets": {},
    "digest": {"--to": "value"},
    "quiet": {"--to": "value"},
    "settings": {"--workspace": "value"},
    "help": {},
}
_OPERATOR_ONLY = ("--to", "--workspace")  # a chat command acts where it was typed
SETTING_KEYS = ("who", "severity", "digest", "language")
WHO = ("everyone", "managers", "admins")
LANGUAGES = ("en", "it")
MAX_BACKFILL = 100
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([dhw]?)$")


def parse(text: str, *, allow_to: bool = False) -> Command:
    """Parse one command line (without the ``/policy`` prefix)."""
    try:
        words = shlex.split(text)
    except ValueError as e:
        raise UsageError(
            msg("cannot read that command: {error} (check your quotes)", error=str(e))
        ) from None
    if not words:
        return Help()
    name, rest = words[0].lower(), words[1:]
    if name not in USAGE:
        raise UsageError(
            joined(
                "",
                [
                    msg("unknown command {command}", command=repr(words[0])),
                    _suggest(name, USAGE),
                    msg(". Try: {commands}", commands=", ".join(USAGE)),
                ],
            )
        )
    args, opts = _split_options(name, rest, allow_to)
    return _checked(name, args, opts)


def _checked(name: str, args: list[str], opts: dict[str, list[str]]) -> Command:
    """Build and validate one command from its words and options; a mistake says the usage."""
    try:
        return _build(name, args, opts)
    except UsageError as e:
        raise UsageError(joined("\n", [e.message, _usage(name)])) from None


def _options(**given: str | None) -> dict[str, list[str]]:
    """Keyword options as the parser's option table (``min_severity`` → ``--min-severity``);
    None means not given."""
    return {f"--{k.replace('_', '-')}": [v] for k, v in given.items() if v is not None}


# -- builders: typed front ends (CLI options, Discord slash options) build commands here, through
# the same validation as ``parse``, so no front end assembles a Command by hand.


def watch_command(
    refs: Sequence[str],
    *,
    to: str | None = None,
    select: str | None = None,
    ignore: Sequence[str] = (),
    keywords: str | None = None,
    min_severity: str | None = None,
    backfill: str | None = None,
    digest: str | None = None,
    digest_all: bool = False,
    at: str | None = None,
    tz: str | None = None,
) -> Watch:
    """``watch`` from typed options; the option values are as typed (``keywords`` "a,b,-c")."""
    opts = _options(
        to=to,
        select=select,
        keywords=keywords,
        min_severity=min_severity,
        backfill=backfill,
        digest=digest,
        at=at,
        tz=tz,
    )
    if ignore:
        opts["--ignore"] = list(ignore)
    if digest_all:
        opts["--digest-all"] = ["yes"]
    command = _checked("watch", list(refs), opts)
    assert isinstance(command, Watch)
    return command


def button_command(action: str, ref: str) -> Unwatch | Mute | Diff | None:
    """What an alert's button means (Slack and Discord carry the same three): ``unwatch``,
    ``mute`` (7 days) or ``diff`` of ``ref``; None for an action that is not one of them."""
    if action == "unwatch":
        return Unwatch(ref)
    if action == "mute":
        return Mute(ref, 7.0)
    if action == "diff":
        return Diff(ref)
    return None


def mute_command(ref: str, duration: str | None = None, *, to: str | None = None) -> Mute:
    """``mute <target> [7d]``."""
    command = _checked(
        "mute", [ref, *([duration] if duration is not None else [])], _options(to=to)
    )
    assert isinstance(command, Mute)
    return command


def digest_command(when: Sequence[str] = (), *, to: str | None = None) -> Digest:
    """``digest [HH:MM [Europe/Rome] [mon…sun]]``; nothing shows the channel's settings."""
    command = _checked("digest", list(when), _options(to=to))
    assert isinstance(command, Digest)
    return command


def slotted_words(name: str, slots: Sequence[tuple[str, str | None]]) -> list[str]:
    """Named options (Discord's ``at``/``tz``/``weekday``) as the positional words of ``name``.

    The grammar reads words by position, so a slot given while an earlier one is missing (a
    time zone without a time) would be read as the earlier one; say what is missing instead."""
    words: list[str] = []
    missing: str | None = None
    for slot, value in slots:
        if not value:
            missing = missing or slot
        elif missing is not None:
            said = msg(
                "{command}: {slot} needs {missing} too (give nothing to see the settings)",
                command=name,
                slot=slot,
                missing=missing,
            )
            raise UsageError(joined("\n", [said, _usage(name)]))
        else:
            words.append(value)
    return words


def quiet_command(window: Sequence[str] = (), *, to: str | None = None) -> Quiet:
    """``quiet [HH:MM-HH:MM [Europe/Rome] | off]``; nothing shows the channel's settings."""
    command = _checked("quiet", list(window), _options(to=to))
    assert isinstance(command, Quiet)
    return command


def settings_command(
    words: Sequence[str] = (), *, workspace: str | None = None
) -> WorkspaceSettings:
    """``settings [<key> <value>…]``; nothing shows the workspace's settings."""
    command = _checked("settings", list(words), _options(workspace=workspace))
    assert isinstance(command, WorkspaceSettings)
    return command


def _split_options(
    name: str, words: list[str], allow_to: bool
) -> tuple[list[str], dict[str, list[str]]]:
    known = _OPTIONS[name]
    args: list[str] = []
    opts: dict[str, list[str]] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            key, eq, inline = word.partition("=")
            if key not in known or (key in _OPERATOR_ONLY and not allow_to):
                hint = _suggest(key, known)
                said = msg("{command}: unknown option {option}", command=name, option=repr(key))
                raise UsageError(joined("\n", [joined("", [said, hint]), _usage(name)]))
            if known[key] == "flag":
                if eq:
                    raise UsageError(
                        msg("{command}: option {option} takes no value", command=name, option=key)
                    )
                value = "yes"
            elif eq:
                value = inline
            else:
                if i + 1 >= len(words):
                    said = msg("{command}: option {option} needs a value", command=name, option=key)
                    raise UsageError(joined("\n", [said, _usage(name)]))
                i += 1
                value = words[i]
            if known[key] != "multi" and key in opts:
                raise UsageError(
                    msg("{command}: option {option} given twice", command=name, option=key)
                )
            opts.setdefault(key, []).append(value)
        else:
            args.append(word)
        i += 1
    return args, opts


def _build(name: str, args: list[str], opts: dict[str, list[str]]) -> Command:
    one = {k: v[0] for k, v in opts.items()}
    to = one.get("--to")
    if name == "watch":
        if not args:
            raise UsageError(msg("watch: which target? e.g. watch hf:meta-llama/Llama-2-7b-hf"))
        keywords = tuple(k.strip() for k in one.get("--keywords", "").split(",") if k.strip())
        severity = Severity.INFO
        if "--min-severity" in one:
            try:
                severity = Severity.parse(one["--min-severity"])
            except ValueError as e:
                raise UsageError(_about("watch", e)) from None
        backfill = 0
        if "--backfill" in one:
            if not one["--backfill"].isdigit() or not 1 <= int(one["--backfill"]) <= MAX_BACKFILL:
                raise UsageError(
                    msg("watch: --backfill must be a number from 1 to {most}", most=MAX_BACKFILL)
                )
            backfill = int(one["--backfill"])
        problems = option_problems(select=one.get("--select"), ignore=opts.get("--ignore", []))
        if problems:  # the check's own regex and CSS engines judge them (bot.commands.validation)
            raise UsageError(joined("", ["watch: ", joined("; ", problems)]))
        digest, at, tz = digest_options(one)
        return Watch(
            tuple(args),
            to=to,
            select=one.get("--select"),
            ignore=tuple(opts.get("--ignore", [])),
            keywords=keywords,
            min_severity=severity,
            min_severity_given="--min-severity" in one,
            backfill=backfill,
            digest=digest,
            digest_all="--digest-all" in one,
            at=at,
            tz=tz,
        )
    if name in ("unwatch", "diff"):
        if len(args) != 1:
            raise UsageError(
                msg("{command}: give exactly one target (got {n})", command=name, n=len(args))
                if args
                else msg("{command}: give exactly one target", command=name)
            )
        return Unwatch(args[0], to=to) if name == "unwatch" else Diff(args[0])
    if name == "list":
        if args:
            raise UsageError(msg("list takes no target (got {given})", given=repr(args[0])))
        return ListWatches(to=to)
    if name == "history":
        if len(args) > 1:
            raise UsageError(msg("history: give at most one target"))
        limit = 10
        if "--limit" in one:
            if not one["--limit"].isdigit() or not 1 <= int(one["--limit"]) <= 100:
                raise UsageError(msg("history: --limit must be a number from 1 to 100"))
            limit = int(one["--limit"])
        return History(args[0] if args else None, limit)
    if name == "check":
        return Check(tuple(args))
    if name == "mute":
        if not 1 <= len(args) <= 2:
            raise UsageError(msg("mute: give a target and optionally a duration like 7d"))
        days = parse_duration_days(args[1]) if len(args) == 2 else 7.0
        return Mute(args[0], days, to=to)
    if name == "presets":
        if len(args) > 1:
            raise UsageError(msg("presets: give at most one preset name"))
        return Presets(args[0] if args else None)
    if name == "digest":
        return _digest_command(args, to)
    if name == "quiet":
        return _quiet_command(args, to)
    if name == "settings":
        return _settings_command(args, one.get("--workspace"))
    return Help(args[0] if args else None)


def digest_options(one: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    """``--digest daily|weekly|off`` with its ``--digest-all``, ``--at`` and ``--tz``."""
    digest = one.get("--digest")
    if digest is not None:
        digest = digest.strip().lower()
        if digest not in ("daily", "weekly", "off"):
            raise UsageError(
                msg(
                    "watch: --digest must be daily, weekly or off (got {given})", given=repr(digest)
                )
            )
    for option in ("--digest-all", "--at", "--tz"):
        if option in one and digest in (None, "off"):
            raise UsageError(
                msg("watch: {option} goes with --digest daily or --digest weekly", option=option)
            )
    try:
        at = f"{routing.parse_clock(one['--at']):%H:%M}" if "--at" in one else None
        tz = routing.parse_zone(one["--tz"]) if "--tz" in one else None
    except ValueError as e:
        raise UsageError(_about("watch", e)) from None
    return digest, at, tz


def _digest_command(args: list[str], to: str | None) -> Digest:
    if len(args) > 3:
        raise UsageError(msg("digest: give a time, optionally a time zone and a weekday"))
    try:
        at = f"{routing.parse_clock(args[0]):%H:%M}" if args else None
        tz = routing.parse_zone(args[1]) if len(args) > 1 else None
        day = routing.WEEKDAYS[routing.parse_weekday(args[2])] if len(args) > 2 else None
    except ValueError as e:
        raise UsageError(_about("digest", e)) from None
    return Digest(at, tz, day, to=to)


def _quiet_command(args: list[str], to: str | None) -> Quiet:
    if len(args) > 2:
        raise UsageError(msg("quiet: give a window like 22:00-08:00 and optionally a time zone"))
    if args and args[0].lower() == "off":
        if len(args) > 1:
            raise UsageError(msg("quiet off takes nothing else"))
        return Quiet("off", to=to)
    try:
        window = None
        if args:
            start, end = routing.parse_window(args[0])
            window = f"{start:%H:%M}-{end:%H:%M}"
        tz = routing.parse_zone(args[1]) if len(args) > 1 else None
    except ValueError as e:
        raise UsageError(_about("quiet", e)) from None
    return Quiet(window, tz, to=to)


def _settings_command(args: list[str], workspace: str | None) -> WorkspaceSettings:
    if workspace is not None and not re.fullmatch(r"(slack|discord):[A-Za-z0-9]{1,40}", workspace):
        raise UsageError(
            f"settings: --workspace {workspace!r} is not a workspace: use slack:<team id> "
            "(like slack:T0123ABCD) or discord:<server id>"
        )
    if not args:
        return WorkspaceSettings(workspace=workspace)
    key, values = args[0].lower(), args[1:]
    if key not in SETTING_KEYS:
        raise UsageError(
            joined(
                "",
                [
                    msg("settings: unknown setting {setting}", setting=repr(args[0])),
                    _suggest(key, SETTING_KEYS),
                    msg("; settings are {settings}", settings=", ".join(SETTING_KEYS)),
                ],
            )
        )
    most = 2 if key == "digest" else 1
    if not 1 <= len(values) <= most:
        if key == "digest":
            raise UsageError(msg("settings digest: give a time and optionally a time zone"))
        raise UsageError(msg("settings {setting}: give one value", setting=key))
    value = values[0].strip()
    tz = None
    if key == "who":
        value = value.lower()
        if value not in WHO:
            raise UsageError(
                msg(
                    "settings who: must be {choices} (got {given})",
                    choices=", ".join(WHO),
                    given=repr(values[0]),
                )
            )
    elif key == "severity":
        try:
            value = Severity.parse(value).value
        except ValueError as e:
            raise UsageError(_about("settings severity", e)) from None
    elif key == "digest":
        try:
            value = f"{routing.parse_clock(value):%H:%M}"
            tz = routing.parse_zone(values[1]) if len(values) > 1 else None
        except ValueError as e:
            raise UsageError(_about("settings digest", e)) from None
    else:
        value = value.lower()
        if value not in LANGUAGES:
            raise UsageError(
                msg(
                    "settings language: must be {choices} (got {given})",
                    choices=msg(
                        "{some} or {last}", some=", ".join(LANGUAGES[:-1]), last=LANGUAGES[-1]
                    ),
                    given=repr(values[0]),
                )
            )
    return WorkspaceSettings(key, value, tz, workspace)


def parse_duration_days(text: str) -> float:
    """``7d``, ``12h``, ``2w`` or a bare number of days; 0 unmutes."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise UsageError(msg("{given} is not a duration: use e.g. 7d, 12h or 2w", given=repr(text)))
    amount, unit = float(match.group(1)), match.group(2) or "d"
    days = {"d": amount, "h": amount / 24, "w": amount * 7}[unit]
    if days > 365:
        raise UsageError(msg("mute for at most 365 days"))
    return days


def _suggest(word: str, choices: object) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)  # type: ignore[call-overload]
    return msg(" (did you mean {word}?)", word=repr(close[0])) if close else ""


def _about(command: str, e: ValueError) -> str:
    """``watch: <what was wrong>``, keeping the message a ValueError was raised with."""
    said = e.args[0] if e.args and isinstance(e.args[0], str) else str(e)
    return joined(": ", [command, said])


def _usage(name: str) -> str:
    """The usage line under a mistake: the syntax itself is never translated."""
    return msg("Usage: {usage}", usage=USAGE[name])
