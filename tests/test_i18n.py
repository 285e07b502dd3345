"""Alerts in the team's language (issue 16): the catalog covers every message id the code can
produce, every alert kind renders in English and Italian through the real formatters with no
message left untranslated, messages survive the outbox as data, languages fall back sensibly.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import pickle
import re
import string
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime, format_skeleton
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from adapters import console, discord_embeds, slack_blocks
from bot.alerts.compose import alert_for, health_change
from bot.alerts.digest import HeldItem, assemble
from bot.alerts.localize import localized
from bot.commands.grammar import Reply
from bot.commands.invocation import Invocation
from bot.detect.feed import FeedInfo, entry_alert, grouped_alert
from bot.detect.health import view_health
from bot.detect.history import History
from bot.detect.org import detect_org
from bot.detect.repo import detect_repo
from bot.domain.facts import HubFacts, OrgFacts, RepoFacts
from bot.domain.model import Alert, Change, ChangeKind, Severity, TargetRef
from bot.domain.refs import parse_target
from bot.i18n import (
    SUPPORTED,
    Msg,
    from_data,
    joined,
    msg,
    nmsg,
    pick_language,
    render,
    to_data,
)
from bot.i18n.catalogs import po_path
from bot.licences.full_text import text_change
from bot.sources.feed import FeedSource
from bot.sources.hub import HubSource, licence_file_change
from bot.sources.hub_org import HubOrgSource
from bot.sources.page import PageSource
from bot.text.feed_entries import Entry
from bot.text.page_views import pack
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.hub import FakeHub
from tests.fakes.web import FakeWeb

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"msg": None, "nmsg": (1, 2)}  # how the code marks message ids (docs/hosting.md)
T0 = datetime(2026, 11, 26, 11, 49, tzinfo=UTC)


def italian() -> Catalog:
    with po_path("it").open("rb") as f:
        return read_po(f, locale="it")


def code_ids() -> dict[str | tuple[str, str], str]:
    """Every message id marked in bot/ and adapters/, with where it is."""
    found: dict[str | tuple[str, str], str] = {}
    for top in ("bot", "adapters"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / top, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            key = message if isinstance(message, str) else (message[0], message[1])
            found.setdefault(key, f"{top}/{filename}:{lineno}")
    return found


def texts(value: object) -> tuple[str, ...]:
    """A catalog entry's id or string as a tuple (one text, or its plural forms)."""
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


def fields_of(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


# -- the catalog -------------------------------------------------------------------------------


def test_the_code_marks_message_ids() -> None:
    ids = code_ids()
    assert "Licence changed" in ids and ("{n} change", "{n} changes") in ids, sorted(ids)[:5]


def test_every_message_id_has_an_italian_translation_with_the_same_placeholders() -> None:
    catalog = italian()
    problems = []
    for key, where in sorted(code_ids().items(), key=lambda kv: str(kv[0])):
        singular = key if isinstance(key, str) else key[0]
        entry = catalog.get(singular)
        if entry is None or entry.fuzzy:
            problems.append(f"{where}: {key!r} has no Italian translation")
            continue
        forms = texts(entry.string)
        if isinstance(key, tuple):
            if entry.id != key:
                problems.append(f"{where}: {key!r} is not a plural entry in the catalog")
                continue
            if len(forms) != catalog.num_plurals:
                problems.append(f"{where}: {key!r} has {len(forms)} of {catalog.num_plurals} forms")
        wanted = set().union(*(fields_of(k) for k in ((key,) if isinstance(key, str) else key)))
        for form in forms:
            if not form:
                problems.append(f"{where}: {key!r} has an empty translation")
            elif fields_of(form) - wanted or (isinstance(key, str) and fields_of(form) != wanted):
                problems.append(f"{where}: {key!r} → {form!r}: placeholders differ")
    assert problems == []


def test_the_catalog_holds_no_message_the_code_no_longer_says() -> None:
    ids = {k if isinstance(k, str) else k[0] for k in code_ids()}
    stale = sorted(
        str(m.id)
        for m in italian()
        if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in ids
    )
    assert stale == [], "remove them (pybabel update does, see docs/hosting.md)"


def test_the_catalogs_ship_with_the_package() -> None:
    """They are read from the installed package at run time: the package data must hold them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["bot.i18n"]
    catalogs = sorted((ROOT / "bot" / "i18n").rglob("*.po"))
    assert catalogs, "no catalog found"
    for po in catalogs:
        relative = po.relative_to(ROOT / "bot" / "i18n")
        assert any(relative.match(g) for g in globs), f"{relative} is not in the package data"


def test_italian_plural_forms_follow_the_count() -> None:
    assert render(nmsg("{n} change", "{n} changes", 1), "it") == "1 modifica"
    assert render(nmsg("{n} change", "{n} changes", 2), "it") == "2 modifiche"
    assert render(nmsg("{n} change", "{n} changes", 0), "it") == "0 modifiche"
    assert str(nmsg("{n} change", "{n} changes", 1)) == "1 change"


# -- messages as strings and as data -----------------------------------------------------------


def test_a_message_reads_as_its_english_text_and_keeps_what_it_was_made_of() -> None:
    said = msg("{before} → {after}", before=msg("public"), after="gated (manual)")
    assert said == "public → gated (manual)" and isinstance(said, str)
    assert render(said, "it") == "pubblico → gated (manual)", "a plain str parameter is upstream"
    for again in (from_data(json.loads(json.dumps(to_data(said)))), copy.deepcopy(said)):
        assert isinstance(again, Msg) and render(again, "it") == "pubblico → gated (manual)"
    assert render(pickle.loads(pickle.dumps(said)), "it") == "pubblico → gated (manual)"


def test_dates_and_numbers_are_formatted_for_the_locale() -> None:
    said = msg("detected {at} UTC", at=T0)
    assert str(said) == "detected 2026-11-26 11:49 UTC"
    assert render(said, "it") == "rilevato il 26 nov 2026, 11:49 UTC"
    assert render(from_data(to_data(said)), "it") == render(said, "it")
    many = msg("… and {n} more", n=12345)
    assert str(many) == "… and 12,345 more" and render(many, "it") == "… e altri 12.345"


def test_a_joined_text_renders_each_part_and_keeps_the_punctuation() -> None:
    said = joined("; ", [msg("commercial use now restricted"), "upstream; text"])
    assert str(said) == "commercial use now restricted; upstream; text"
    assert render(said, "it") == "uso commerciale ora limitato; upstream; text"


def test_a_plain_string_renders_as_itself_in_any_language() -> None:
    assert render("Licence changed — x", "it") == "Licence changed — x"
    assert type(render(msg("Licence changed"), "en")) is str, "adapters get plain strings"


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (("it", "en"), "it"),
        ((None, "it-IT"), "it"),
        ((None, "it_CH"), "it"),
        (("fr", None), "en"),
        (("fr", "it"), "it"),
        ((None, None), "en"),
        (("", "EN-GB"), "en"),
    ],
)
def test_the_first_language_we_speak_wins(
    candidates: tuple[str | None, ...], expected: str
) -> None:
    assert pick_language(*candidates) == expected


# -- every alert kind, in both languages, through the real formatters ---------------------------

MIT = """MIT License

Copyright (c) 2024 Acme Corp

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
"""


def repo(**facts: Any) -> RepoFacts:
    return cast(
        RepoFacts, {"exists": True, "private": False, "gated": False, "disabled": False, **facts}
    )


def lic(*ids: str, name: str | None = None) -> dict[str, Any]:
    return {"ids": list(ids), "name": name}


def hub_alert(changes: list[Change], target: str = "hf:acme/model") -> Alert:
    assert changes, "the fixture must produce a change"
    label = HubSource("https://huggingface.co", None, 5.0, 1).label(parse_target(target))
    return alert_for(target, label, changes, detected_at=T0)


async def every_alert_kind() -> dict[str, Alert]:
    """One alert of every kind the bot sends, built by the real detection code."""
    out: dict[str, Alert] = {}
    out["licence"] = hub_alert(
        detect_repo(repo(licence=lic("apache-2.0")), repo(licence=lic("cc-by-nc-4.0")))
    )
    out["licence reverted"] = hub_alert(
        detect_repo(
            repo(licence=lic("llama2")),
            repo(licence=lic("mit")),
            earlier=repo(licence=lic("mit")),
            prev_since=T0 - timedelta(days=1),
            now=T0,
        )
    )
    out["licence from custom"] = hub_alert(
        detect_repo(repo(licence=lic("other", name="yi-license")), repo(licence=lic("apache-2.0")))
    )
    out["licence removed"] = hub_alert(detect_repo(repo(licence=lic("mit")), repo(licence=lic())))
    out["licence and access"] = hub_alert(
        detect_repo(repo(licence=lic("mit")), repo(licence=lic("gpl-3.0"), gated="manual")),
        target="hf:datasets/acme/data",
    )
    out["gated auto → manual"] = hub_alert(
        detect_repo(
            repo(licence=lic("mit"), gated="auto"), repo(licence=lic("mit"), gated="manual")
        )
    )
    out["gone"] = hub_alert(detect_repo(repo(), repo(exists=False)))
    out["restored"] = hub_alert(detect_repo(repo(private=True), repo()))
    out["disabled"] = hub_alert(detect_repo(repo(), repo(disabled=True)))
    out["moved"] = hub_alert(detect_repo(repo(id="acme/old"), repo(id="acme/new")))
    relicensed_text = text_change(
        MIT, MIT.replace("Acme Corp", "Acme Inc"), old_rules=None, still="MIT", relicensed=False
    )
    assert relicensed_text is not None
    out["licence text"] = hub_alert([relicensed_text])
    file_change = licence_file_change(
        cast(HubFacts, {"licence_file": {"status": "ok", "path": "LICENSE", "text": MIT}}),
        cast(HubFacts, {"licence_file": {"status": "missing", "path": None}}),
        relicensed=False,
    )
    assert file_change is not None
    out["licence file removed"] = hub_alert([file_change])

    page = PageSource(make_settings("sqlite://"))
    try:
        history = History(earlier=None, prev_since=None, now=None)
        old = pack(["Pricing", "Team: $12 per seat / month", "Free: up to 3 projects"])
        new = pack(
            ["Pricing", "Team: $15 per seat / month", "Free: up to 1 project", "Enterprise: $99"]
        )
        changes = page.detect(
            {**old, "title": "Acme Pricing"}, {**new, "title": "Acme Pricing"}, history
        )
    finally:
        await page.aclose()
    ref = TargetRef("page", "https://acme.example/pricing")
    out["page"] = alert_for(str(ref), page.label(ref), changes, detected_at=T0)

    info = FeedInfo(
        "feed:https://blog.example/feed",
        "https://blog.example/feed",
        "Acme Blog",
        site="https://blog.example/",
        total=2000,
        kept=100,
    )
    entry = Entry(
        "e1",
        "Acme updates its terms",
        "https://blog.example/terms",
        "2026-11-25T10:00:00+00:00",
        "We changed our terms.",
    )
    out["feed entry"] = entry_alert(info, entry, ["terms"], Severity.NOTICE, T0)
    picked = [(Entry(f"e{i}", f"Post {i}", None, None, ""), ["terms"]) for i in range(12)]
    out["feed grouped"] = grouped_alert(
        info, picked, Severity.NOTICE, rewrite=False, detected_at=T0
    )
    out["feed rewritten"] = grouped_alert(info, picked, Severity.INFO, rewrite=True, detected_at=T0)
    feeds = FeedSource(make_settings("sqlite://"))
    try:
        fresh = feeds.detect(
            {"entries": []},
            {"entries": [entry.to_json()]},
            History(earlier=None, prev_since=None, now=None),
        )
    finally:
        await feeds.aclose()
    label = feeds.label(TargetRef("feed", info.url))
    out["feed change"] = alert_for(info.target, label, fresh, detected_at=T0)

    out["health failing since"] = hub_alert([health_change(True, "http", "HTTP 500", 3, T0)])
    out["health failing once"] = hub_alert([health_change(True, "http", "HTTP 500", 1, None)])
    blind = view_health({}, {"error": {"reason": "selector", "message": "#main matches nothing"}})
    assert blind is not None
    out["health blind"] = hub_alert([blind])
    out["health recovered"] = hub_alert([health_change(False, "http", "", 1, None)])

    org_old = cast(
        OrgFacts, {"repos": {f"model:acme/m{i}": repo(licence=lic("mit")) for i in range(8)}}
    )
    org_new: Any = {
        "repos": {
            **{f"model:acme/m{i}": repo(licence=lic("cc-by-nc-4.0")) for i in range(7)},
            "dataset:acme/new": repo(licence=lic("mit"), gated="auto"),
        }
    }
    org_label = HubOrgSource("https://huggingface.co", None, 5.0).label(TargetRef("hf-org", "acme"))
    out["organisation"] = alert_for(
        "hf:org/acme",
        org_label,
        detect_org(org_old, org_new, group_over=3),
        detected_at=T0,
    )
    out["organisation gone"] = alert_for(
        "hf:org/acme",
        org_label,
        detect_org(org_old, {"exists": False}, group_over=3),
        detected_at=T0,
    )
    held = [
        HeldItem(Alert.from_json(a.to_json()), T0 + timedelta(minutes=i), "digest")
        for i, a in enumerate([out["licence"], *[out["gone"]] * 6, out["page"]])
    ]
    out["digest"] = assemble(held, T0 + timedelta(hours=1))
    return out


def messages_in(alert: Alert) -> Iterator[Msg]:
    def walk(text: str) -> Iterator[Msg]:
        if isinstance(text, Msg):
            yield text
            for part in text.parts:
                yield from walk(part)
            for value in text.params.values():
                if isinstance(value, str):
                    yield from walk(value)

    texts = [alert.title, alert.source_label, *alert.lines]
    texts += [t for f in alert.fields for t in f]
    texts += [lk.label for lk in alert.links] + [a.label for a in alert.actions]
    for text in texts:
        yield from walk(text)


def formatted(alert: Alert, lang: str) -> str:
    """What a reader sees, from each real formatter (console, Slack, Discord)."""
    said = localized(alert, lang)
    slack = slack_blocks.alert_message(said)
    discord = discord_embeds.alert_message(said)
    return "\n".join(
        [
            console.render_text(said),
            slack.text,
            json.dumps(slack.blocks, ensure_ascii=False),
            json.dumps(discord.embed, ensure_ascii=False),
            json.dumps(discord.components, ensure_ascii=False),
        ]
    )


def english_giveaways(catalog: Catalog) -> set[str]:
    """Pieces of English our messages say that their Italian never does: any of them in an
    Italian alert is a text that escaped translation."""
    pieces: set[str] = set()
    for entry in catalog:
        if not entry.id:
            continue
        ids = texts(entry.id)
        forms = texts(entry.string)
        for text in ids:
            for literal, *_ in string.Formatter().parse(text):
                for piece in re.split(r"[{}():;·→—…,_*+]", literal):
                    piece = piece.strip()
                    if len(piece) >= 8 and " " in piece and not any(piece in f for f in forms):
                        pieces.add(piece)
    return pieces


@pytest.fixture(scope="module")
def alerts() -> dict[str, Alert]:
    built = asyncio.run(every_alert_kind())
    # As the dispatcher sees them: read back from the outbox's JSON.
    return {k: Alert.from_json(json.loads(json.dumps(a.to_json()))) for k, a in built.items()}


KINDS = [
    "licence",
    "licence reverted",
    "licence from custom",
    "licence removed",
    "licence and access",
    "gated auto → manual",
    "gone",
    "restored",
    "disabled",
    "moved",
    "licence text",
    "licence file removed",
    "page",
    "feed entry",
    "feed grouped",
    "feed rewritten",
    "feed change",
    "health failing since",
    "health failing once",
    "health blind",
    "health recovered",
    "organisation",
    "organisation gone",
    "digest",
]


def test_the_list_of_kinds_is_every_kind_built(alerts: dict[str, Alert]) -> None:
    assert sorted(alerts) == sorted(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_alert_kind_is_said_in_italian(alerts: dict[str, Alert], kind: str) -> None:
    alert = alerts[kind]
    catalog = italian()
    untranslated = sorted(
        {m.id for m in messages_in(alert) if m.sep is None and not catalog.get(m.id)}
    )
    assert untranslated == [], f"message ids with no Italian: {untranslated}"
    english, it = formatted(alert, "en"), formatted(alert, "it")
    leftovers = sorted(p for p in english_giveaways(catalog) if p in it)
    assert leftovers == [], f"English left in the Italian {kind} alert: {leftovers}\n{it}"
    assert localized(alert, "it").title != localized(alert, "en").title or kind.startswith(
        "feed entry"
    )
    assert english == formatted(alert, "en"), "rendering is deterministic"


# -- command replies ---------------------------------------------------------------------------


def reply_messages(reply: Reply) -> Iterator[Msg]:
    for line in reply.lines:
        yield from walk_messages(line)


def walk_messages(text: str) -> Iterator[Msg]:
    if isinstance(text, Msg):
        yield text
        for part in text.parts:
            yield from walk_messages(part)
        for value in text.params.values():
            if isinstance(value, str):
                yield from walk_messages(value)


def upstream_texts(reply: Reply) -> set[str]:
    """The plain strings in a reply (parameters, lines that are command syntax): never ours
    to translate."""
    found = {line for line in reply.lines if not isinstance(line, Msg)}
    for m in reply_messages(reply):
        found |= {p for p in m.parts if not isinstance(p, Msg)}
        found |= {v for v in m.params.values() if isinstance(v, str) and not isinstance(v, Msg)}
    return {t for t in found if t}


def said(reply: Reply, lang: str) -> str:
    return dataclasses.replace(reply, language=lang).text


async def every_reply_kind(bot: Bot, hub: FakeHub) -> dict[str, Reply]:
    """One reply of each kind, through the real Service against the fake Hub."""
    service = bot.service
    cli = bot.cli
    team = Invocation(channel="slack:T0TEAM/C0CHAN", actor="U1", workspace="T0TEAM")
    member = dataclasses.replace(team, may_change=False)
    hub.set_repo("acme/model", license="mit")

    async def run(text: str, inv: Invocation = cli) -> Reply:
        return await service.run_text(text, inv)

    replies = {"list empty": await run("list"), "history empty": await run("history")}
    replies["watch ok"] = await run("watch hf:acme/model")
    replies["watch again"] = await run("watch hf:acme/model --digest daily --at 08:00")
    replies["watch refused"] = await run("watch hf:acme/model", member)
    replies["watch invalid"] = await run("watch hf:acme/missing")
    replies["list"] = await run("list")
    replies["history of"] = await run("history hf:acme/model")
    replies["diff"] = await run("diff hf:acme/model")
    replies["check"] = await run("check")
    replies["mute"] = await run("mute hf:acme/model 3d")
    replies["unmute"] = await run("mute hf:acme/model 0d")
    replies["list muted"] = await run("list")
    replies["presets"] = await run("presets")
    replies["preset"] = await run("presets huggingface")
    replies["digest show"] = await run("digest")
    replies["digest set"] = await run("digest 07:30 Europe/Rome fri")
    replies["quiet set"] = await run("quiet 22:00-07:00")
    replies["settings show"] = await run("settings", team)
    replies["settings set"] = await run("settings severity warning", team)
    replies["settings unnamed"] = await run("settings")
    replies["help"] = await run("help")
    replies["unwatch"] = await run("unwatch hf:acme/model")
    replies["unknown command"] = await run("lisst")
    replies["missing argument"] = await run("unwatch")
    replies["bad option"] = await run("list --bogus")
    replies["option without value"] = await run("history --limit")
    replies["watch unreadable"] = await run("watch github:onlyowner")
    replies["not watched"] = await run("diff hf:acme/other")
    replies["settings bad value"] = await run("settings language fr", team)
    replies["bad time"] = await run("digest 25:00")
    replies["bad duration"] = await run("mute hf:acme/model forever")
    replies["option for another kind"] = await run("watch hf:acme/model --keywords a")
    replies["watch preset"] = await run("watch preset:docker")
    return replies


REPLY_KINDS = [
    "list empty",
    "history empty",
    "watch ok",
    "watch again",
    "watch refused",
    "watch invalid",
    "list",
    "history of",
    "diff",
    "check",
    "mute",
    "unmute",
    "list muted",
    "presets",
    "preset",
    "digest show",
    "digest set",
    "quiet set",
    "settings show",
    "settings set",
    "settings unnamed",
    "help",
    "unwatch",
    "unknown command",
    "missing argument",
    "bad option",
    "option without value",
    "watch unreadable",
    "not watched",
    "settings bad value",
    "bad time",
    "bad duration",
    "option for another kind",
    "watch preset",
]


async def test_every_command_reply_kind_is_said_in_italian(bot: Bot, hub: FakeHub) -> None:
    replies = await every_reply_kind(bot, hub)
    assert sorted(replies) == sorted(REPLY_KINDS)
    catalog = italian()
    giveaways = english_giveaways(catalog)
    for kind, reply in replies.items():
        assert reply.lines and isinstance(reply.lines[0], Msg), f"{kind}: {reply.lines[:1]!r}"
        ids = {m.id for m in reply_messages(reply) if m.sep is None}
        untranslated = sorted(i for i in ids if not catalog.get(i))
        assert untranslated == [], f"{kind}: message ids with no Italian: {untranslated}"
        english, it = said(reply, "en"), said(reply, "it")
        assert english == "\n".join(str(line) for line in reply.lines) + (
            f"\n{reply.code}" if reply.code else ""
        ), f"{kind}: English is the messages' own text"
        ours = it
        for text in sorted(upstream_texts(reply), key=len, reverse=True):
            ours = ours.replace(text, "")  # parameters are said as they are (a check's error)
        leftovers = sorted(p for p in giveaways if p in ours)
        assert leftovers == [], f"English left in the Italian {kind} reply: {leftovers}\n{it}"
        assert it != english, f"{kind}: nothing was said in Italian\n{it}"
    assert replies["watch ok"].ok and not replies["watch refused"].ok
    assert "acme/model" in said(replies["watch ok"], "it"), "refs stay as typed"
    assert "Stato di partenza: licenza: " in said(replies["watch ok"], "it")
    assert "privato: no · disattivato: no" in said(replies["watch ok"], "it")
    assert "Uso: unwatch <target or #id>" in said(replies["missing argument"], "it")
    assert "(forse intendevi 'list'?)" in said(replies["unknown command"], "it")
    assert "Sat" not in said(replies["digest set"], "it") and "venerdì" in said(
        replies["digest set"], "it"
    )


async def test_a_replys_language_is_the_workspace_setting_then_the_locale_then_the_default(
    bot: Bot, tmp_path: Path, clock: Clock
) -> None:
    service = bot.service
    team = Invocation(channel="discord:1", actor="u", workspace="42")
    assert service.reply_language(team) == "en"
    assert service.reply_language(dataclasses.replace(team, locales=("it", "en-US"))) == "it"
    assert service.reply_language(dataclasses.replace(team, locales=("en-US", "it"))) == "en"
    assert service.reply_language(dataclasses.replace(team, locales=("fr",))) == "en"
    await service.run_text("settings language it", team)
    assert service.reply_language(dataclasses.replace(team, locales=("en-US",))) == "it"
    italian_default = Bot(
        make_settings(f"sqlite:///{tmp_path / 'it.db'}", default_language="it"), clock
    )
    try:
        assert italian_default.service.reply_language(italian_default.cli) == "it"
        reply = await italian_default.service.run_text("list", italian_default.cli)
        assert reply.language == "it" and reply.text.startswith("Non si segue nulla"), reply.text
        shown = await italian_default.service.run_text("settings", team)
        assert "language: it" in str(shown.lines[0]), "the effective language, not 'en'"
        assert "lingua: it" in shown.text
    finally:
        await italian_default.close()


# -- a failing watch: health alerts and replies carry the failure as a message -----------------

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>
<link>https://news.example/</link><item><guid>1</guid><title>One</title>
<link>https://news.example/1</link></item></channel></rss>"""

# How an upstream breaks, for each kind of failure a check can meet (the reason it records).
BREAKS: dict[str, tuple[str, Callable[[FakeWeb, str], None]]] = {
    "http-error": ("http-500", lambda web, path: web.status(path, 500)),
    "access-denied": ("http-401", lambda web, path: web.status(path, 401)),
    "network-error": ("refused", lambda web, path: web.redirect(path, "http://127.0.0.1:9/f")),
    "unparsable-feed": (
        "unparsable",
        lambda web, path: web.set_page(path, b"just some words", content_type="text/plain"),
    ),
    "rate-limited": ("rate-limited", lambda web, path: web.status(path, 429)),
    "unsafe-url": ("unsafe-url", lambda web, path: web.redirect(path, "file:///etc/passwd")),
    "gone": ("http-410", lambda web, path: web.status(path, 410)),
}


def english_left(text: str, catalog: Catalog) -> list[str]:
    return sorted(p for p in english_giveaways(catalog) if p in text)


async def test_a_failing_watch_is_said_in_italian_for_every_failure_reason(
    web: FakeWeb, clock: Clock, tmp_path: Path
) -> None:
    """Each failure, from the real fetch through the outbox to the console, in Italian: the
    health alert ("Watch failing"), the reply to a watch whose first check fails, and the
    check reply. Hosts, URLs and status codes are parameters; no sentence stays English."""
    catalog = italian()
    settings = make_settings(
        f"sqlite:///{tmp_path / 'it.db'}", default_language="it", health_after_failures=1
    )
    bot = Bot(settings, clock)
    try:
        for name in BREAKS:  # a good baseline first: then the upstream breaks
            web.set_page(f"/ok/{name}", RSS, content_type="application/rss+xml")
            reply = await bot.service.run_text(f"watch feed:{web.url}/ok/{name}", bot.cli)
            assert reply.ok, reply.text
        for name, (_reason, brk) in BREAKS.items():
            brk(web, f"/ok/{name}")
        clock.advance(hours=2)
        sent, console_text = await bot.cycle()
        assert sent == len(BREAKS) - 1, console_text  # being asked to slow down is no alarm
        assert console_text.count("Controllo in errore") == len(BREAKS) - 1, console_text
        assert english_left(console_text, catalog) == [], console_text
        assert "file:…" in console_text and "HTTP 410" in console_text, "parameters as they are"
        for name, (reason, _brk) in BREAKS.items():
            target = bot.store.get_target(f"feed:{web.url}/ok/{name}")
            assert target is not None and target.last_error_reason == reason, name
            assert target.last_error and not isinstance(target.last_error, Msg)
            # the stored reason and message, as the health alert says them
            alert = alert_for(
                target.ref, "feed", [health_change(True, reason, target.last_error, 3, None)]
            )
            assert "Watch failing" in formatted(alert, "en"), "stored text stays English"

        clock.advance(hours=2)
        check = await bot.service.run_text("check", bot.cli)
        assert check.language == "it"
        for name in BREAKS:
            assert f"/ok/{name}: controllo fallito (" in check.text, check.text
        assert english_left(check.text, catalog) == [], check.text
        english = dataclasses.replace(check, language="en").text
        assert "127.0.0.1:9 refused the connection" in english, "English unchanged"
        assert "answered HTTP 500" in english and "refused access (HTTP 401)" in english

        for name, (_reason, brk) in BREAKS.items():  # a watch whose first check fails
            brk(web, f"/new/{name}")
            reply = await bot.service.run_text(f"watch feed:{web.url}/new/{name}", bot.cli)
            assert reply.language == "it"
            assert english_left(reply.text, catalog) == [], f"{name}: {reply.text}"
            assert reply.text != dataclasses.replace(reply, language="en").text
    finally:
        await bot.close()


@pytest.mark.parametrize("name", sorted(BREAKS))
async def test_every_failure_reason_makes_an_italian_health_alert(
    web: FakeWeb, bot: Bot, clock: Clock, name: str
) -> None:
    """The alert a channel is owed for each reason (rate limited included, though the
    checker keeps that one quiet), built from what a real check of a broken feed said."""
    reason, brk = BREAKS[name]
    web.set_page("/feed", RSS, content_type="application/rss+xml")
    assert "Watching" in await bot.run(f"watch feed:{web.url}/feed")
    brk(web, "/feed")
    clock.advance(hours=2)
    target = bot.store.get_target(f"feed:{web.url}/feed")
    assert target is not None
    result = await bot.service.checker.check_ids([target.id])
    (outcome,) = result.outcomes
    assert outcome.reason == reason and isinstance(outcome.message, Msg), outcome
    alert = alert_for(
        f"feed:{web.url}/feed", "feed", [health_change(True, reason, outcome.message, 3, T0)]
    )
    catalog = italian()
    it = formatted(alert, "it")
    assert english_left(it, catalog) == [], it
    assert formatted(alert, "en") != it and str(outcome.message) in formatted(alert, "en")


# -- the words around upstream text -------------------------------------------------------------


def long_diff_alert() -> Alert:
    """A page change whose excerpt is cut: 60 diff lines, the alert keeps 30 and a note."""
    diff = "\n".join(f"+line {i} of the new terms" for i in range(60))
    change = Change(
        ChangeKind.CONTENT,
        Severity.CRITICAL,
        msg("Page text changed: {what}", what="60 lines added"),
        detail=diff,
    )
    return alert_for("page:https://acme.example/terms", "page", [change], detected_at=T0)


def test_a_cut_excerpt_says_how_much_was_left_out_in_the_readers_language() -> None:
    alert = Alert.from_json(json.loads(json.dumps(long_diff_alert().to_json())))
    assert alert.excerpt is not None and alert.excerpt.endswith("… 30 more lines")
    it = localized(alert, "it")
    assert it.excerpt is not None and it.excerpt.endswith("… altre 30 righe")
    assert "+line 0 of the new terms" in it.excerpt, "the diff itself is upstream text"
    for lang, note, other in (("it", "altre 30 righe", "more lines"), ("en", "30 more", "altre")):
        said = localized(alert, lang)
        shown = console.render_text(said)
        assert note in shown and other not in shown, shown
        blocks = json.dumps(slack_blocks.alert_message(said).blocks, ensure_ascii=False)
        assert blocks.count(note) == 1 and other not in blocks, "the note said once, by Slack"
        assert other not in json.dumps(discord_embeds.alert_message(said).embed)
    english = console.render_text(localized(alert, "en"))
    assert english.startswith("[CRITICAL] ") and "  … 30 more lines\n" in english


def test_console_severity_tags_are_words_of_the_readers_language() -> None:
    alert = long_diff_alert()
    assert console.render_text(localized(alert, "it")).startswith("[CRITICO] ")
    for severity, tag in (
        (Severity.CRITICAL, "[CRITICAL] "),
        (Severity.WARNING, "[WARNING]  "),
        (Severity.NOTICE, "[NOTICE]   "),
        (Severity.INFO, "[INFO]     "),
    ):
        shown = console.render_text(dataclasses.replace(alert, severity=severity))
        assert shown.startswith(tag), "English tags line up as they always did"
    columns = {
        console.render_text(localized(dataclasses.replace(alert, severity=s), "it")).index(
            "60 lines added"
        )
        for s in Severity
    }
    assert len(columns) == 1, "Italian tags are padded to one width: titles line up"


def test_a_feed_entrys_published_date_is_written_the_locales_way(
    alerts: dict[str, Alert],
) -> None:
    it = console.render_text(localized(alerts["feed entry"], "it"))
    en = console.render_text(localized(alerts["feed entry"], "en"))
    assert "Pubblicato: 25 nov 2026, 10:00 UTC" in it, it
    assert "Published: 2026-11-25 10:00 UTC" in en, en


async def test_an_organisation_baseline_says_kinds_and_licence_categories_in_italian(
    hub: FakeHub, clock: Clock, tmp_path: Path
) -> None:
    hub.set_repo("acme/model", license="mit")
    hub.set_repo("acme/data", license="apache-2.0", repo_type="dataset")
    settings = make_settings(f"sqlite:///{tmp_path / 'it.db'}", hub.url, default_language="it")
    bot = Bot(settings, clock)
    try:
        reply = await bot.service.run_text("watch hf:org/acme", bot.cli)
        it, en = reply.text, dataclasses.replace(reply, language="en").text
        assert "repository: 2 (dataset: 1, modelli: 1)" in it, it
        assert "(permissiva)" in it and "permissive" not in it, it
        assert "2 repos (1 datasets, 1 models)" in en and "1 MIT (permissive)" in en, en
    finally:
        await bot.close()


async def test_the_language_choices_are_joined_in_the_askers_language(bot: Bot) -> None:
    team = Invocation(channel="slack:T0TEAM/C0CHAN", actor="U1", workspace="T0TEAM")
    reply = await bot.service.run_text("settings language fr", team)
    assert "deve essere en o it (ricevuto 'fr')" in said(reply, "it")
    assert "must be en or it (got 'fr')" in said(reply, "en")


@pytest.mark.parametrize(
    "channel",
    ["bogus:x", "slack:", "slack:lowercase", "discord:12", "webhook:ftp://x", "discord-webhook:x"],
)
async def test_a_channel_that_cannot_be_read_is_refused_in_italian(
    bot: Bot, hub: FakeHub, channel: str
) -> None:
    hub.set_repo("acme/model", license="mit")
    reply = await bot.service.run_text(f"watch hf:acme/model --to {channel}", bot.cli)
    assert not reply.ok
    it, en = said(reply, "it"), said(reply, "en")
    assert it != en and english_left(it, italian()) == [], it


@pytest.mark.parametrize(
    "n", [0, 1, 7, 999, 1000, 2000, 12345, 1_000_000, -1, -1234, -1_234_567, 10**12]
)
def test_english_counts_read_as_babel_writes_them(n: int) -> None:
    """English integers skip Babel (they are formatted on every alert's path); the text must be
    exactly Babel's, or messages would read differently from every other locale's numbers."""
    assert render(nmsg("{n} change", "{n} changes", n), "en") == format_decimal(n, locale="en") + (
        " change" if n == 1 else " changes"
    )


ZONES = [
    None,
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-3, seconds=17)),
    ZoneInfo("Europe/Rome"),
]


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_dates_read_as_babel_writes_them_in_any_zone(tz: tzinfo | None) -> None:
    """English dates skip Babel and each language's date is formatted once per minute (both are
    on every alert's path); the text must be exactly Babel's, in the date's own zone."""
    for at in [
        datetime(2026, 11, 26, 11, 49, 59, 999_999, tzinfo=tz),
        datetime(2026, 3, 29, 2, 30, 1, tzinfo=tz),  # Rome's clocks skip this hour
        datetime(5, 1, 2, 3, 4, tzinfo=tz),
    ]:
        said = msg("detected {at} UTC", at=at)
        english = format_datetime(at, "yyyy-MM-dd HH:mm", tzinfo=at.tzinfo, locale="en")
        day = format_skeleton("yMMMd", at, tzinfo=at.tzinfo, locale="it")
        hour = format_skeleton("Hm", at, tzinfo=at.tzinfo, locale="it")
        assert str(said) == f"detected {english} UTC"
        assert render(said, "it") == f"rilevato il {day}, {hour} UTC"
        assert render(from_data(json.loads(json.dumps(to_data(said)))), "it") == render(said, "it")


def test_the_same_instant_in_two_zones_reads_as_each_zones_own_time() -> None:
    utc = datetime(2026, 11, 26, 11, 49, tzinfo=UTC)
    india = utc.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert utc == india
    for lang in SUPPORTED:
        assert render(msg("detected {at} UTC", at=utc), lang).count("11:49") == 1
        assert render(msg("detected {at} UTC", at=india), lang).count("17:19") == 1


def test_every_alert_kind_reads_the_same_after_the_outbox() -> None:
    """An alert is queued as data and made again at delivery (to_json → JSON → from_json, with
    the English of each message said again or shared between alerts): what every formatter
    writes from it, in each language, is what it writes from the alert as composed."""
    built = asyncio.run(every_alert_kind())
    assert sorted(built) == sorted(KINDS)
    for kind, alert in built.items():
        back = Alert.from_json(json.loads(json.dumps(alert.to_json())))
        assert back == alert and back.to_json() == alert.to_json(), kind
        for lang in SUPPORTED:
            assert formatted(back, lang) == formatted(alert, lang), (kind, lang)
        again = Alert.from_json(json.loads(json.dumps(back.to_json())))
        assert formatted(again, "it") == formatted(alert, "it"), f"{kind}: read back twice"
