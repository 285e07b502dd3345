"""The noise corpus: versions of pages that differ only by the noise real sites produce must never
alert; each real change in the same pages must alert exactly once. Synthetic pricing pages
(``tests/noisy_pages.py``) and the real page versions in ``corpus/pages`` (Open Terms Archive)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.conftest import Bot, Clock, corpus_path, make_settings
from tests.fakes.web import FakeWeb
from tests.noisy_pages import BASE, REAL_CHANGES, State, render

NOISE_VERSIONS_BETWEEN = 3  # noise-only versions before each real change


@pytest.fixture
async def bot(clock: Clock, tmp_path: Path) -> AsyncIterator[Bot]:
    b = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}"), clock)
    yield b
    await b.close()


async def next_version(bot: Bot, web: FakeWeb, path: str, html: str | bytes) -> tuple[int, str]:
    web.set_page(path, html)
    bot.clock.advance(hours=2)
    return await bot.cycle()


@pytest.mark.parametrize(
    "watch_options, testimonial_in_main",
    [("", False), ('--select "#pricing"', True)],
    ids=["default region (main)", "selected region, testimonial rotating beside it"],
)
async def test_noise_never_alerts_and_each_real_change_alerts_once(
    bot: Bot, web: FakeWeb, watch_options: str, testimonial_in_main: bool
) -> None:
    seed = 0
    state: State = BASE
    web.set_page("/pricing", render(state, seed, testimonial_in_main=testimonial_in_main))
    reply = await bot.run(f"watch page:{web.url}/pricing {watch_options}")
    assert "Watching page:" in reply and "Baseline:" in reply, reply

    noise_alerts = noise_versions = 0
    for label, change, severity in REAL_CHANGES:
        for _ in range(NOISE_VERSIONS_BETWEEN):
            seed += 1
            html = render(state, seed, testimonial_in_main=testimonial_in_main)
            sent, text = await next_version(bot, web, "/pricing", html)
            noise_versions += 1
            noise_alerts += sent
            assert sent == 0, f"noise version {seed} alerted:\n{text}"
        seed += 1
        state = change(state)
        html = render(state, seed, testimonial_in_main=testimonial_in_main)
        sent, text = await next_version(bot, web, "/pricing", html)
        assert sent == 1, f"real change {label!r} gave {sent} alerts"
        assert f"[{severity.upper()}]" in text, text
        assert "Content changed — Pricing · Acme · 127.0.0.1 (web page)" in text, text

    assert (noise_versions, noise_alerts) == (15, 0)
    target = bot.store.get_target(f"page:{web.url}/pricing")
    assert target is not None
    versions = bot.store.snapshots_of(target.id, 99)
    assert len(versions) == 1 + len(REAL_CHANGES), "noise normalises away: not even a new version"


async def test_real_changes_read_well_in_the_alert(bot: Bot, web: FakeWeb) -> None:
    web.set_page("/pricing", render(BASE, 0))
    await bot.run(f"watch page:{web.url}/pricing")

    state = REAL_CHANGES[0][1](BASE)
    _, text = await next_version(bot, web, "/pricing", render(state, 1))
    assert "Content changed — Pricing · Acme · 127.0.0.1" in text, "named by its <title>"
    assert "Page text changed: 1 line changed · price changed" in text
    numbers = "Pro: $20 → $25 per seat / month (+25 %)"
    assert text.index(numbers) < text.index("- Pro | [-$20-]"), "the numbers, then the diff"
    assert "- Pro | [-$20-] per seat per month | for small teams" in text
    assert "+ Pro | {+$25+} per seat per month | for small teams" in text

    state = REAL_CHANGES[1][1](state)
    _, text = await next_version(bot, web, "/pricing", render(state, 2))
    assert "Team: plan removed (was $40 per seat / month)" in text
    assert "- Team | $40 per seat per month | SSO and audit log" in text

    state = REAL_CHANGES[3][1](REAL_CHANGES[2][1](state))
    _, text = await next_version(bot, web, "/pricing", render(state, 3))
    assert "Free: 1,000 API calls per month → 500 API calls per month" in text
    assert "+ Free includes up to 3 projects and {+500+} API calls per month." in text
    assert "+ Accounts that resell access to the service will be closed." in text

    history = await bot.run(f"history page:{web.url}/pricing")
    assert history.count("Page text changed") == 3
    diff = await bot.run(f"diff page:{web.url}/pricing")
    assert "+Accounts that resell access to the service will be closed." in diff


async def test_a_user_ignore_rule_silences_a_timestamp_line(bot: Bot, web: FakeWeb) -> None:
    page = "<main><h1>Terms</h1><p>Generated 2026-01-05 09:{:02d} UTC</p><p>Be nice.</p></main>"
    web.set_page("/terms", page.format(0))
    await bot.run(f'watch page:{web.url}/terms --ignore "^Generated .* UTC$"')
    for minute in range(1, 4):
        assert await next_version(bot, web, "/terms", page.format(minute)) == (0, "")
    sent, text = await next_version(bot, web, "/terms", page.format(9).replace("nice", "kind"))
    assert sent == 1 and "[-nice.-]" in text


# ------------------------------------------------------------------- real page versions

OTA_SERIES = {
    # folder: [(file, is a real change from the previous file)]
    "huggingface": [
        ("terms-of-service.2025-03-21.c68ad05c3.v1.md", False),
        ("terms-of-service.2025-06-24.bfcd629d1.v2-meaningful.md", True),
        ("terms-of-service.2025-09-23.9f75e751f.v3-noise.md", False),
        ("terms-of-service.2026-03-18.1fe17d871.v4-noise.md", False),
    ],
    "github": [
        ("terms-of-service.2024-01-02.3cbae01cb.v1.md", False),
        ("terms-of-service.2025-09-23.791827242.v2-noise.md", False),
        ("terms-of-service.2025-09-29.b54d9fe8a.v3-meaningful.md", True),
    ],
    "reddit": [
        ("terms-of-service.2022-09-09.4d8ee31c4.v1.md", False),
        ("terms-of-service.2022-09-18.b06e7b43c.v2-noise.md", False),
        ("terms-of-service.2023-04-18.ad56b1c36.v3-meaningful.md", True),
        ("terms-of-service.2023-09-25.2b3d7b79d.v4-meaningful.md", True),
    ],
    "chatgpt": [
        ("terms-of-service.2025-11-11T1519.4d237032f.v1.md", False),
        ("terms-of-service.2025-12-17T2330.d6eb285e0.v2-meaningful.md", True),
        ("terms-of-service.2026-07-25T1030.51653b86e.v3.md", True),  # not consecutive with v2
        ("terms-of-service.2026-07-25T2230.aab0f4b55.v4-noise.md", False),
    ],
}
_MD = MarkdownIt("commonmark").enable("table")


def as_html(markdown: str) -> str:
    """An OTA version served as the page it was extracted from: nav, main, footer."""
    return (
        "<!DOCTYPE html><html><head><title>Terms</title></head><body>"
        '<nav><a href="/">Home</a></nav><main>' + str(_MD.render(markdown)) + "</main>"
        "<footer>© 2026</footer></body></html>"
    )


@pytest.mark.parametrize("served_as", ["html", "markdown"])
async def test_real_terms_versions_noise_is_silent_and_each_change_alerts_once(
    bot: Bot, web: FakeWeb, served_as: str
) -> None:
    real = noise = real_alerts = noise_alerts = 0
    for site, versions in OTA_SERIES.items():
        for n, (name, meaningful) in enumerate(versions):
            text = corpus_path("pages", site, name).read_text(encoding="utf-8")
            if served_as == "html":
                web.set_page(f"/{site}", as_html(text))
            else:
                web.set_page(f"/{site}", text, content_type="text/markdown; charset=utf-8")
            if n == 0:
                assert "Baseline:" in await bot.run(f"watch page:{web.url}/{site}")
                continue
            bot.clock.advance(hours=2)
            sent, alert = await bot.cycle()
            if meaningful:
                real, real_alerts = real + 1, real_alerts + sent
                assert sent == 1, f"{site} {name}: {sent} alerts"
            else:
                noise, noise_alerts = noise + 1, noise_alerts + sent
                assert sent == 0, f"{site} {name} is noise but alerted:\n{alert}"
    assert (real, real_alerts, noise, noise_alerts) == (6, 6, 5, 0)


async def test_real_raw_html_apostrophe_flap_is_silent(bot: Bot, web: FakeWeb) -> None:
    folder = "chatgpt"
    v3 = "raw-html.eu-terms-of-use.2026-07-25T1030.21028f9d4.snapshot-for-v3.html"
    v4 = "raw-html.eu-terms-of-use.2026-07-25T2230.0e55b8c45.snapshot-for-v4.html"
    web.set_page("/eu-terms", corpus_path("pages", folder, v3).read_bytes())
    reply = await bot.run(f"watch page:{web.url}/eu-terms")
    assert "Baseline:" in reply and "Europe Terms of Use" in reply
    sent, text = await next_version(
        bot, web, "/eu-terms", corpus_path("pages", folder, v4).read_bytes()
    )
    assert (sent, text) == (0, "")
    raw = corpus_path("pages", folder, v4).read_text(encoding="utf-8")
    changed = raw.replace("ONE HUNDRED DOLLARS ($100)", "FIFTY DOLLARS ($50)")
    assert changed != raw
    sent, text = await next_version(bot, web, "/eu-terms", changed)
    assert sent == 1 and "[WARNING]" in text, "the liability cap is money: a warning"
    assert "OR {+FIFTY+} DOLLARS {+($50).+} THE LIMITATIONS" in text
