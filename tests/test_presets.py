"""Platform presets: the shipped data file, pure expansion, ``watch preset:<name>`` through the
whole bot (all or nothing), the listings, and each preset page's extraction checked against the
saved copies of those pages (Open Terms Archive, ``corpus/pages``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from bot.commands import presets
from bot.domain.errors import InvalidTarget
from bot.domain.model import Severity
from bot.domain.refs import parse_target, preset_name
from bot.service.executor import Service
from bot.sources import build_sources
from bot.text.html_text import html_lines
from tests.conftest import Bot, Clock, corpus_path, make_settings
from tests.fakes.web import FakeWeb

CATALOGUE = presets.catalogue()
ISSUE_PRESETS = {"huggingface", "docker", "github", "openai", "reddit"}
SLACK = "slack:C0123ABCD"


# ------------------------------------------------------------------- the data file


def test_the_shipped_file_has_every_preset_the_issue_names_each_source_with_a_reason() -> None:
    assert set(CATALOGUE) == ISSUE_PRESETS
    for preset in CATALOGUE.values():
        assert preset.version >= 1 and preset.title
        kinds = {parse_target(s.target).kind for s in preset.sources}
        assert {"page", "feed", "github"} <= kinds, f"{preset.name}: terms/pricing, feed, repos"
        for source in preset.sources:
            assert len(source.why) > 20, f"{source.target}: say why it is there"
            assert bool(source.keywords) == (parse_target(source.target).kind == "feed"), (
                f"{source.target}: feeds carry policy keywords, nothing else does"
            )
        targets = [s.target for s in preset.sources]
        assert len(targets) == len(set(targets)), f"{preset.name} lists a source twice"
    hf = {s.target for s in CATALOGUE["huggingface"].sources}
    assert {
        "github:huggingface/text-generation-inference",
        "github:huggingface/transformers",
        "github:huggingface/huggingface_hub",
    } <= hf


def test_a_preset_entry_without_a_reason_or_version_is_refused() -> None:
    good = {"version": 1, "title": "t", "watch": [{"target": "github:a/b", "why": "because"}]}
    assert presets.parse_catalogue({"x": good})["x"].sources[0].why == "because"
    with pytest.raises(ValueError, match="entry #1: needs target and why"):
        presets.parse_catalogue({"x": {**good, "watch": [{"target": "github:a/b"}]}})
    with pytest.raises(ValueError, match="needs a version"):
        presets.parse_catalogue({"x": {**good, "version": 0}})


# ------------------------------------------------------------------- pure expansion


def test_expansion_is_the_preset_sources_for_the_given_channels_and_severity() -> None:
    preset = presets.find("HuggingFace", CATALOGUE)
    entries = presets.expand(preset, ["slack:C0123ABCD", "console"], Severity.NOTICE)
    assert [e.target for e in entries] == [s.target for s in preset.sources]
    assert all(e.channels == ("slack:C0123ABCD", "console") for e in entries)
    assert all(e.min_severity is Severity.NOTICE for e in entries)
    feed = next(e for e in entries if e.target.startswith("feed:"))
    assert "licen" in feed.keywords and "pricing" in feed.keywords
    assert entries[0].where == f"preset:huggingface v1 {entries[0].target}"
    assert presets.expand(preset, ["console"]) == presets.expand(preset, ["console"]), "pure"


def test_preset_names_are_read_only_by_watch_and_typos_get_a_suggestion() -> None:
    assert preset_name(" preset:OpenAI ") == "openai"
    assert preset_name("hf:acme/x") is None
    with pytest.raises(InvalidTarget, match="is a preset"):
        parse_target("preset:openai")  # never a stored target kind
    with pytest.raises(InvalidTarget, match="did you mean preset:huggingface"):
        presets.find("hugingface", CATALOGUE)


# ------------------------------------------------------------------- through the bot


async def test_watch_preset_subscribes_every_source_once_and_again_changes_nothing(
    bot: Bot,
) -> None:
    reply = await bot.run("watch preset:huggingface --min-severity notice")
    assert reply.splitlines()[0].startswith("Preset huggingface v1 → console: 6 sources, 6 new.")
    watches = bot.store.list_watches("console")
    preset = CATALOGUE["huggingface"]
    assert sorted(t.ref for _s, t in watches) == sorted(s.target for s in preset.sources)
    assert {s.min_severity for s, _t in watches} == {"notice"}
    assert all(t.latest_snapshot_id is None for _s, t in watches), "baselines come at a check"
    feed_sub = next(s for s, t in watches if t.kind == "feed")
    assert feed_sub.options["keywords"] == list(
        next(p.keywords for p in preset.sources if p.keywords)
    )
    assert "preset" not in {t.kind for _s, t in watches}

    listing = await bot.run("list")
    assert listing.count("baseline pending") == 6
    assert "github:huggingface/text-generation-inference" in listing

    again = await bot.run("watch preset:huggingface --min-severity notice")
    assert "6 sources, 0 new" in again and again.count("  kept ") == 6
    assert len(bot.store.list_watches()) == 6


@pytest.mark.parametrize("name", sorted(ISSUE_PRESETS))
async def test_every_preset_passes_the_bots_own_checks(name: str, bot: Bot) -> None:
    """The SSRF gate (public hosts only), the kinds this build supports, options per kind."""
    reply = await bot.run(f"watch preset:{name} --to {SLACK}")
    count = len(CATALOGUE[name].sources)
    assert f"{count} sources, {count} new" in reply, reply
    assert len(bot.store.list_watches(SLACK)) == count


async def test_a_bad_preset_or_options_subscribe_nothing(bot: Bot) -> None:
    reply = await bot.run("watch preset:hugginface")
    assert "✗ no preset 'hugginface' (did you mean preset:huggingface?)" in reply
    reply = await bot.run("watch preset:openai --keywords terms")
    assert "brings its own selectors and keywords" in reply
    reply = await bot.run("unwatch preset:openai")
    assert "is a preset (a set of watches), not one target" in reply
    assert bot.store.list_watches() == []


async def test_a_preset_is_all_or_nothing(clock: Clock, tmp_path: Path) -> None:
    """A build without the GitHub source cannot take the preset's repos: nothing is stored,
    not even the pages and feed that it could watch."""
    settings = make_settings(f"sqlite:///{tmp_path / 'b.db'}")
    bot = Bot(settings, clock)
    sources = {k: v for k, v in build_sources(settings).items() if k != "github"}
    limited = Service(settings, bot.store, sources, {}, clock, owner="t")
    try:
        reply = await limited.run_text("watch preset:github", bot.cli)
        assert not reply.ok and "preset:github: nothing was subscribed" in reply.text
        assert "preset:github v1 github:cli/cli: 'github:cli/cli': github targets are not" in (
            reply.text
        )
        assert bot.store.list_watches() == []
        assert bot.store.get_target("page:https://github.com/pricing") is None
    finally:
        for source in sources.values():
            await source.aclose()
        await bot.close()


async def test_presets_are_listed_in_chat_with_their_sources(bot: Bot) -> None:
    listing = await bot.run("presets")
    for name in ISSUE_PRESETS:
        assert f"preset:{name} (v1, " in listing
    detail = await bot.run("presets openai")
    assert "page:https://openai.com/policies/eu-terms-of-use/ [select 'main article']" in detail
    assert detail.count("why: ") == len(CATALOGUE["openai"].sources)
    assert "no preset 'nope'" in await bot.run("presets nope")
    assert "watch preset:huggingface" in await bot.run("help")


# ------------------------------------------------------------------- selectors vs saved pages

_MD = MarkdownIt("commonmark").enable("table")
# preset → (corpus folder, saved version, its terms page in the preset, text that must survive)
OTA = {
    "huggingface": (
        "huggingface",
        "terms-of-service.2025-06-24.bfcd629d1.v2-meaningful.md",
        "page:https://huggingface.co/terms-of-service",
        "Inference Providers",
    ),
    "github": (
        "github",
        "terms-of-service.2025-09-29.b54d9fe8a.v3-meaningful.md",
        "page:https://docs.github.com/en/site-policy/github-terms/github-terms-of-service",
        "Access Reciprocity",
    ),
    "reddit": (
        "reddit",
        "terms-of-service.2023-09-25.2b3d7b79d.v4-meaningful.md",
        "page:https://redditinc.com/policies/user-agreement",
        "prior written consent",
    ),
}


@pytest.mark.parametrize("name", sorted(OTA))
def test_preset_terms_pages_default_region_yields_the_terms(name: str) -> None:
    folder, version, target, phrase = OTA[name]
    source = next(s for s in CATALOGUE[name].sources if s.target == target)
    assert source.select is None, "no saved raw HTML for this page: no selector to trust"
    markdown = corpus_path("pages", folder, version).read_text(encoding="utf-8")
    page = (
        '<html><body><nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav><main>'
        + _MD.render(markdown)
        + "</main><footer>© 2026 Example Inc.</footer></body></html>"
    )
    lines = html_lines(page, select=source.select)
    text = "\n".join(lines)
    assert len(lines) > 50 and phrase in text
    assert "Home" not in lines and not any("© 2026" in line for line in lines)


SNAPSHOTS = (
    "raw-html.eu-terms-of-use.2026-07-25T1030.21028f9d4.snapshot-for-v3.html",
    "raw-html.eu-terms-of-use.2026-07-25T2230.0e55b8c45.snapshot-for-v4.html",
)


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=["v3", "v4"])
def test_openai_selector_matches_the_saved_eu_terms_page(snapshot: str) -> None:
    source = next(
        s
        for s in CATALOGUE["openai"].sources
        if s.target == "page:https://openai.com/policies/eu-terms-of-use/"
    )
    assert source.select == "main article"
    raw = corpus_path("pages", "chatgpt", snapshot).read_bytes()
    selected = html_lines(raw, select=source.select)
    whole = html_lines(raw)
    assert "Europe Terms of Use" in selected and "Thank you for using OpenAI!" in selected
    assert any("ONE HUNDRED DOLLARS ($100)" in line for line in selected)
    assert len(selected) > 100
    assert "Europe Terms of Use | OpenAI" in whole and "Europe Terms of Use | OpenAI" not in (
        selected
    ), "the selector drops the page title row and keeps the terms"


async def test_openai_selector_takes_a_baseline_through_the_page_source(
    bot: Bot, web: FakeWeb
) -> None:
    source = next(s for s in CATALOGUE["openai"].sources if s.select)
    web.set_page("/eu-terms", corpus_path("pages", "chatgpt", SNAPSHOTS[0]).read_bytes())
    reply = await bot.run(f'watch page:{web.url}/eu-terms --select "{source.select}"')
    assert "Baseline:" in reply and "lines of text" in reply, reply
    [(sub, target)] = bot.store.list_watches()
    assert dict(sub.options) == {"select": "main article"}  # the subscription's own view
    [snapshot] = bot.service.versions(target, sub.channel, 1)
    lines = bot.service.sources["page"].lines(snapshot.facts)
    assert "Europe Terms of Use" in lines and "Thank you for using OpenAI!" in lines
