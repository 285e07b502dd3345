"""What alerts say: pages named by their title, --ignore dropping whole lines (and the first
check after that change of meaning staying silent), renames headed "Moved", licence changes
from a custom licence ranked by what is known, one naming scheme for licences, no bare "- …"
diff line. Pure functions where they suffice; the page flows run the real bot against a local
web server; licence data from ../shared/corpus where it fits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from huggingface_hub.repocard import metadata_load

from bot.alerts.compose import alert_for
from bot.detect.history import History
from bot.detect.repo import detect_repo
from bot.domain.facts import GithubFacts, HubFacts, PageView, RepoFacts
from bot.domain.model import Severity
from bot.licences.classify import LicenceSet, classify_hub, identify_text
from bot.sources.page import PageSource
from bot.text.diff import diff_lines
from bot.text.html_text import apply_ignore, compile_ignore, page_title, text_lines
from bot.text.page_views import IGNORE_DROPS_LINES, pack
from tests.conftest import Bot, Clock, corpus_path, make_settings
from tests.fakes.web import FakeWeb
from tests.test_page_noise import OTA_SERIES

TERMS = """<!DOCTYPE html><html><head><title>Acme Terms of Service</title></head><body>
<nav>Home</nav><main><h1>Terms</h1><p>Last updated: {date}</p><p>Be {word}.</p></main>
</body></html>"""


@pytest.fixture
async def bot(clock: Clock, tmp_path: Path) -> AsyncIterator[Bot]:
    b = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}"), clock)
    yield b
    await b.close()


async def next_version(bot: Bot, web: FakeWeb, html: str) -> tuple[int, str]:
    web.set_page("/terms", html)
    bot.clock.advance(hours=2)
    return await bot.cycle()


# ------------------------------------------------------------------------ --ignore


def test_an_ignore_rule_drops_every_line_it_matches() -> None:
    rules = compile_ignore(["Last updated"])
    lines = ["Terms", "Last updated: 1 Nov 2026", "Be nice."]
    assert apply_ignore(lines, rules) == ["Terms", "Be nice."], "no ': 1 Nov 2026' left"


async def test_ignore_last_updated_silences_every_date_bump(bot: Bot, web: FakeWeb) -> None:
    web.set_page("/terms", TERMS.format(date="1 Nov 2026", word="nice"))
    reply = await bot.run(f"watch page:{web.url}/terms --ignore 'Last updated'")
    assert "Baseline: “Acme Terms of Service”, 2 lines of text" in reply, reply
    for date in ("2 Nov 2026", "15 Nov 2026", "1 Dec 2026"):
        assert await next_version(bot, web, TERMS.format(date=date, word="nice")) == (0, "")
    sent, text = await next_version(bot, web, TERMS.format(date="2 Dec 2026", word="kind"))
    assert sent == 1 and "[-nice.-]" in text and "{+kind.+}" in text
    assert "2 Dec" not in text and "Last updated" not in text
    assert "Content changed — Acme Terms of Service · 127.0.0.1 (web page)" in text, "by title"


async def test_a_version_extracted_when_ignore_cut_text_is_a_silent_baseline() -> None:
    """The first check after the upgrade compares a stored version whose ignore rule left
    ": 1 Nov 2026" behind with one that dropped that line: not a change, a new baseline. The
    next real change alerts as usual."""
    source = PageSource(make_settings("sqlite://"))
    try:
        stored = pack(["Terms", ": 1 Nov 2026", "Be nice."])  # as the old code kept it
        upgraded: PageView = {**pack(["Terms", "Be nice."]), "ignore": IGNORE_DROPS_LINES}
        history = History(earlier=None, prev_since=None, now=None)
        assert source.detect(stored, upgraded, history) == []
        later: PageView = {**pack(["Terms", "Be kind."]), "ignore": IGNORE_DROPS_LINES}
        (change,) = source.detect(upgraded, later, history)
        assert "[-nice.-]" in (change.detail or "")
        unruled = pack(["Terms", "Be kind."])  # a view without ignore rules: compared as ever
        assert len(source.detect(pack(["Terms", "Be nice."]), unruled, history)) == 1
    finally:
        await source.aclose()


# ------------------------------------------------------------------------ page names


def test_page_title_is_read_from_the_head() -> None:
    assert page_title(b"<html><head><title>Pricing &middot; Acme</title>") == "Pricing · Acme"
    assert page_title("<TITLE lang=en>\n  Terms\n of  Use </TITLE>") == "Terms of Use"
    assert page_title("<html><body>no title</body></html>") is None
    raw = corpus_path(
        "pages",
        "chatgpt",
        "raw-html.eu-terms-of-use.2026-07-25T1030.21028f9d4.snapshot-for-v3.html",
    ).read_bytes()
    assert page_title(raw, "utf-8") == "Europe Terms of Use | OpenAI"


# ------------------------------------------------------------------------ diff lines


def test_no_real_terms_diff_prints_a_bare_minus_line() -> None:
    bare = []
    for site, versions in OTA_SERIES.items():
        prev: list[str] | None = None
        for name, _meaningful in versions:
            lines = text_lines(corpus_path("pages", site, name).read_text(encoding="utf-8"))
            if prev is not None:
                bare += [(site, name) for x in diff_lines(prev, lines).lines if x == "- …"]
            prev = lines
    assert bare == []


# ------------------------------------------------------------------------ moves


def test_a_rename_is_headed_moved() -> None:
    before: RepoFacts = {"id": "acme/tool", "exists": True}
    after: RepoFacts = {"id": "acme/tool-legacy", "exists": True}
    alert = alert_for("github:acme/tool", "GitHub repository", detect_repo(before, after))
    assert alert.title == "Moved — acme/tool"
    assert alert.lines == ("moved: acme/tool is now acme/tool-legacy",)


# ------------------------------------------------------------------------ licences


def card_licence(name: str) -> HubFacts:
    meta = metadata_load(corpus_path("licence-history", "yi-model-card", name)) or {}
    return {"licence": {"ids": [meta["license"]], "name": meta.get("license_name")}}


def test_yi_custom_licence_to_apache_is_a_notice_that_it_is_now_permissive() -> None:
    before = card_licence("HUGGINGFACE_README.md.2024-05-before-license-other-yi-license")
    after = card_licence("HUGGINGFACE_README.md.2024-05-30-after-license-apache-2.0")
    (change,) = detect_repo(before, after)
    assert change.severity is Severity.NOTICE
    assert change.summary == "yi-license (custom) → Apache-2.0 (permissive) · now permissive"
    alert = alert_for("hf:01-ai/Yi-34B", "Hugging Face model", [change])
    assert (alert.title, alert.lines[0]) == ("Licence changed — 01-ai/Yi-34B", change.summary)


def _hub(ident: str, name: str | None = None) -> HubFacts:
    return {"licence": {"ids": [ident], "name": name}}


@pytest.mark.parametrize(
    "after, severity, said",
    [
        ("cc0-1.0", Severity.NOTICE, "now public domain"),
        ("mit", Severity.NOTICE, "now permissive"),
        ("gpl-3.0", Severity.WARNING, "now copyleft"),
        ("cc-by-nc-4.0", Severity.WARNING, "now non-commercial"),
        ("llama3.1", Severity.WARNING, "now proprietary-free"),
    ],
)
def test_from_a_custom_licence_the_new_category_decides(
    after: str, severity: Severity, said: str
) -> None:
    (change,) = detect_repo(_hub("other", "acme-license"), _hub(after))
    assert change.severity is severity and change.summary.endswith(f"· {said}")


def test_from_a_ranked_licence_to_a_custom_one_is_still_unknown_and_a_warning() -> None:
    (change,) = detect_repo(_hub("apache-2.0"), _hub("other", "yi-license"))
    assert change.severity is Severity.WARNING
    assert change.summary == "Apache-2.0 (permissive) → yi-license (custom) · unknown"


def test_one_naming_scheme_for_every_licence() -> None:
    """SPDX ids where they exist, else the Hub's id, whichever way the licence was named."""
    (change,) = detect_repo(_hub("llama3"), _hub("llama3.1"))
    assert change.summary == "llama3 (proprietary-free) → llama3.1 (proprietary-free) · lateral"
    by_name = classify_hub("other", "Llama 3.1 Community License Agreement")
    assert by_name.describe() == "llama3.1 (proprietary-free)"
    assert classify_hub("gemma").describe() == "gemma (proprietary-free)"
    assert classify_hub("bsl-1.0").describe() == "BSL-1.0 (permissive)"


# Each licence history of the corpus, as a GitHub repo's licence text: the alert's first lines.
HISTORIES = [
    (
        "text-generation-inference",
        "LICENSE.2023-07-before-apache-2.0",
        "LICENSE.2023-07-28-after-hfoil-1.0",
        "Apache-2.0 (permissive) → hfoil-1.0 (source-available) · more restrictive",
    ),
    (
        "text-generation-inference",
        "LICENSE.2023-07-28-after-hfoil-1.0",
        "LICENSE.2024-04-08-after-apache-2.0",
        "hfoil-1.0 (source-available) → Apache-2.0 (permissive) · less restrictive",
    ),
    (
        "terraform",
        "LICENSE.2023-08-before-mpl-2.0",
        "LICENSE.2023-08-10-after-busl-1.1",
        "MPL-2.0 (weak copyleft) → BUSL-1.1 (source-available) · more restrictive",
    ),
    (
        "vagrant",
        "LICENSE.2023-08-before-mit",
        "LICENSE.2023-08-10-after-busl-1.1",
        "MIT (permissive) → BUSL-1.1 (source-available) · more restrictive",
    ),
]


@pytest.mark.parametrize(
    "repo, old, new, line", HISTORIES, ids=[h[0] + " " + h[2] for h in HISTORIES]
)
def test_real_relicensings_read_well(repo: str, old: str, new: str, line: str) -> None:
    def licences(facts: GithubFacts) -> LicenceSet:
        found = identify_text(facts.get("licence_text", ""))
        return LicenceSet((found,) if found else ())

    def facts(name: str) -> GithubFacts:
        text = corpus_path("licence-history", repo, name).read_text(encoding="utf-8")
        return {"licence": {"ids": [], "name": None}, "licence_text": text}

    changes = detect_repo(facts(old), facts(new), licences=licences)
    alert = alert_for(f"github:x/{repo}", "GitHub repository", changes)
    assert alert.lines[0] == line
