"""Page normalisation, noise rules, readable diffs and severity: pure functions, no servers."""

from __future__ import annotations

import random
import re

import pytest

from bot.domain.model import Severity
from bot.text.diff import (
    diff_lines,
    paragraphs,
    same_text,
    severity_of,
    summarise,
    version_blind_key,
)
from bot.text.html_text import (
    NoText,
    SelectorEmpty,
    check_selector,
    clean_lines,
    html_lines,
    normalise_line,
    text_lines,
)


def test_typography_and_invisible_characters_are_folded() -> None:
    assert normalise_line("If you\u2019re  using\u00a0\u201cChatGPT\u201d \u2014 ok\u200b") == (
        'If you\'re using "ChatGPT" - ok'
    )


def test_relative_times_are_noise_and_ignore_rules_drop_the_lines_they_match() -> None:
    lines = ["Updated 3 minutes ago", "Posted about an hour ago by Ana", "just now", "Plan: Pro"]
    assert clean_lines(lines) == ["Updated", "Posted by Ana", "Plan: Pro"]
    rules = (re.compile(r"^Build \w+$"), re.compile(r"\(ref \d+\)"))
    assert clean_lines(["Build 1a2b", "Pro (ref 991) plan", "", "Team plan"], rules) == [
        "Team plan"
    ]


def test_only_text_a_reader_sees_in_the_main_region_is_kept() -> None:
    html = """<html><head><title>T</title><style>p{}</style></head><body>
    <nav>Menu</nav><header>Site header</header>
    <main>
      <h1>Plans</h1><!-- cache 1234 -->
      <script nonce="x">var s = {"csrf": "abc"}</script>
      <noscript>enable js</noscript>
      <form><input type="hidden" name="csrf" value="abc"><input type="text" value="q"></form>
      <div hidden>hidden A/B</div><span aria-hidden="true">★</span>
      <p style="display:none">tracking</p>
      <p>Pro<br>$20 per month</p>
      <table><tr><th>Plan</th><td>Free</td><td>$0</td></tr></table>
      <nav>in-page nav</nav>
      <footer>inner footer</footer>
    </main>
    <footer>© 2026</footer></body></html>"""
    assert html_lines(html) == ["Plans", "Pro", "$20 per month", "Plan | Free | $0"]


def test_region_choice_and_selection() -> None:
    assert html_lines("<body><div role='main'>A</div><p>B</p></body>") == ["A"]
    assert html_lines("<body><article>A</article><p>B</p></body>") == ["A"]
    assert html_lines("<body><article>A</article><article>B</article></body>") == ["A", "B"]
    page = "<main><div class='x'>1<div class='x'>2</div></div><p class='x'>3</p><nav>n</nav></main>"
    assert html_lines(page, select=".x") == ["1", "2", "3"], "nested matches read once"
    assert html_lines(page, select="nav") == ["n"], "chrome is kept when selected on purpose"
    with pytest.raises(SelectorEmpty, match="'#plans' matches nothing"):
        html_lines(page, select="#plans")
    with pytest.raises(NoText):
        html_lines("<main><script>render()</script></main>")
    with pytest.raises(ValueError, match="not a valid CSS selector"):
        check_selector("div[[")


def test_encodings_and_deep_markup() -> None:
    latin = "<main><p>Pr\xe9cis: 20 \u20ac</p></main>".encode("cp1252")
    assert html_lines(latin, encoding="windows-1252") == ["Précis: 20 €"]
    deep = "<main>" + "<div>" * 3000 + "deep" + "</div>" * 3000 + "</main>"
    assert html_lines(deep) == ["deep"]
    assert text_lines("# Terms\n\n*   item one\n* item two\n") == [
        "# Terms",
        "* item one",
        "* item two",
    ]


def test_whitespace_and_moved_line_breaks_are_not_a_change() -> None:
    assert same_text(["Terms of Service Privacy Policy"], ["Terms of ServicePrivacy Policy"])
    assert same_text(["You may cancel at any", "time."], ["You may cancel at any time."])
    assert not same_text(["Pro $20"], ["Pro $25"])


def test_short_changed_lines_have_their_words_marked() -> None:
    old = ["Pricing", "Pro | $20 per seat per month", "Team | $40", "Cancel any time."]
    new = ["Pricing", "Pro | $25 per seat per month", "Cancel any time.", "No resale."]
    diff = diff_lines(old, new)
    assert diff.lines == (
        "  Pricing",
        "- Pro | [-$20-] per seat per month",
        "+ Pro | {+$25+} per seat per month",
        "- Team | $40",
        "  Cancel any time.",
        "+ No resale.",
    )
    assert (diff.changed, diff.added, diff.removed) == (1, 1, 1)
    assert summarise(diff) == (
        "1 line changed, 1 line added, 1 line removed · price and plan changed"
    )
    assert severity_of(diff) is Severity.WARNING


def test_long_lines_show_a_window_around_the_change() -> None:
    words = [f"w{n}" for n in range(200)]
    old = " ".join(words)
    new = " ".join([*words[:100], "CHANGED", *words[101:]])
    (minus, plus) = diff_lines([old], [new]).lines
    assert minus.startswith("- … w88") and "[-w100-]" in minus and minus.endswith("w112 …")
    assert "{+CHANGED+}" in plus and len(plus) < 200


@pytest.mark.parametrize(
    "line, severity",
    [
        ("Pro costs €15", Severity.WARNING),
        ("Pro costs 15 USD", Severity.WARNING),
        ("Annual billing saves 20%", Severity.WARNING),
        ("The free tier now has a limit", Severity.WARNING),
        ("5 seats included", Severity.WARNING),
        ("Billed per month", Severity.NOTICE),  # no figure: says nothing about the price
        ("We may update these terms.", Severity.NOTICE),
        ("Disputes go to the courts of Dublin.", Severity.NOTICE),
    ],
)
def test_money_percentages_and_plan_words_raise_severity(line: str, severity: Severity) -> None:
    assert severity_of(diff_lines(["Intro"], ["Intro", line])) is severity


def test_licence_paragraphs_ignore_rewrapping_and_version_bumps() -> None:
    old = (
        "Licensed Work: Terraform 1.7.0-dev. The Licensed Work is (c) 2023\n"
        "                HashiCorp.\n\nUse it."
    )
    new = (
        "Licensed Work: Terraform 1.7.0-alpha20231025.\n"
        "The Licensed Work is (c) 2024 HashiCorp.\n\nUse it."
    )
    assert paragraphs(new) == [
        "Licensed Work: Terraform 1.7.0-alpha20231025. The Licensed Work is (c) 2024 HashiCorp.",
        "Use it.",
    ]
    assert same_text(paragraphs(old), paragraphs(new), key=version_blind_key)
    assert not same_text(
        paragraphs(old), paragraphs(new.replace("HashiCorp", "IBM")), key=version_blind_key
    )


def _patched(old: list[str], diff: list[str]) -> list[str]:
    """``old`` with a unified diff applied, trusting the hunk positions it states."""
    import re

    out, at = [], 0
    for line in diff[2:]:
        hunk = re.match(r"@@ -(\d+)(?:,(\d+))? ", line)
        if hunk:
            start = int(hunk[1]) - (0 if hunk[2] == "0" else 1)
            out.extend(old[at:start])
            at = start
        elif line.startswith(("-", " ")):
            assert old[at] == line[1:], f"the diff says line {at + 1} is {line[1:]!r}"
            if line[0] == " ":
                out.append(old[at])
            at += 1
        elif line.startswith("+"):
            out.append(line[1:])
    return out + old[at:]


def test_the_diff_commands_unified_diff_is_exact_on_every_small_edit() -> None:
    """Cutting the common ends first loses nothing: the diff turns the old version into the
    new one with the hunk positions it states, and reads as difflib's when lines are unique."""
    import difflib

    from bot.text.diff import unified

    rng = random.Random(7)
    for _ in range(300):
        old = [rng.choice("abcdef") for _ in range(rng.randint(0, 30))]
        new = _edited(rng, old, rng.randint(1, 3), "abcdefXYZ")
        assert _patched(old, unified(old, new, ("v1", "v2"))) == new, (old, new)
    old = [f"line {i}" for i in range(40)]
    new = [*old[:10], "new", *old[11:30], *old[31:]]
    expected = list(difflib.unified_diff(old, new, "v1", "v2", lineterm="", n=1))
    assert unified(old, new, ("v1", "v2")) == expected


def test_the_diff_commands_unified_diff_of_a_huge_change_is_told_by_counts() -> None:
    from bot.text.diff import unified

    old = [f"row {i}" for i in range(5000)]
    new = [f"other {i}" for i in range(5000)]
    out = unified(old, new, ("v1", "v2"), max_lines=100)
    assert out[:2] == ["--- v1", "+++ v2"]
    assert any("too large to show line by line" in line for line in out)
    assert len(out) < 100


def test_changed_lines_are_paired_exactly_as_difflibs_ratio_says() -> None:
    """Pairing an old line with its new version decides what the alert marks word by word.
    It skips difflib's matcher when bounds settle the answer (a shared prefix or suffix long
    enough, or lengths too far apart); the answer must still be difflib's ``ratio() >= 0.6``
    for every pair, including the edge cases (empty lines, exactly at the threshold)."""
    import difflib

    from bot.text.diff import _similar_chars

    rng = random.Random(14)
    words = ["Pro", "$20/month", "$25/month", "per", "seat", "1,000", "requests", "10 GB", "the"]
    pairs = [("", ""), ("", "a"), ("abc", "abd"), ("ab", "abcd"), ("abcde", "xbcdy")]
    for _ in range(4000):
        a = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        pairs.append((a, "".join(_edited(rng, list(a), rng.randint(0, 8), "ab $0123,."))))
    said = [_similar_chars(a, b) for a, b in pairs]
    assert said == [difflib.SequenceMatcher(None, a, b).ratio() >= 0.6 for a, b in pairs]
    assert 0 < sum(said) < len(said)  # both answers are exercised


def _edited(rng: random.Random, items: list[str], edits: int, alphabet: str) -> list[str]:
    """``items`` with ``edits`` random deletions or insertions (from ``alphabet``)."""
    out = list(items)
    for _edit in range(edits):
        spot = rng.randint(0, len(out))
        if out and rng.random() < 0.5:
            del out[min(spot, len(out) - 1)]
        else:
            out.insert(spot, rng.choice(alphabet))
    return out
