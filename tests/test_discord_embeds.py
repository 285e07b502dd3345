"""Alert → Discord message, as pure functions: limits, escaping, buttons, excerpt cutting.

Every limit is checked the way Discord checks it (and with discord.py's own ``len(Embed)``),
because Discord rejects the whole message with a 400 when one is broken.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from adapters.discord_embeds import (
    COLOURS,
    CUSTOM_ID_MAX,
    CUSTOM_ID_TEMPLATE,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    FOOTER_MAX,
    TITLE_MAX,
    DiscordMessage,
    alert_message,
    embed_length,
    escape,
    reply_text,
    target_digest,
)
from bot.alerts.compose import alert_for
from bot.commands.grammar import Reply
from bot.domain.model import Action, Alert, Change, ChangeKind, Link, Severity
from tests.conftest import corpus_path

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def licence_alert(**overrides: object) -> Alert:
    change = Change(
        ChangeKind.LICENCE,
        Severity.CRITICAL,
        "Apache-2.0 (permissive) → HFOIL-1.0 (source-available) · more restrictive",
        before="Apache-2.0 (permissive)",
        after="HFOIL-1.0 (source-available)",
        detail="commercial use now restricted",
        links=(Link("Commit bde25e62", "https://github.com/huggingface/tgi/commit/bde25e62"),),
    )
    alert = alert_for(
        "github:huggingface/text-generation-inference",
        "GitHub",
        [change],
        links=[Link("Repository", "https://github.com/huggingface/text-generation-inference")],
        detected_at=WHEN,
    )
    fields = {f: getattr(alert, f) for f in Alert.__dataclass_fields__}
    fields.update(overrides)
    return Alert(**fields)


def assert_within_limits(message: DiscordMessage) -> None:
    embed = message.embed
    assert len(embed["title"]) <= TITLE_MAX
    assert len(embed.get("description", "")) <= DESCRIPTION_MAX
    assert len(embed["fields"]) <= FIELDS_MAX
    for field in embed["fields"]:
        assert 0 < len(field["name"]) <= FIELD_NAME_MAX
        assert 0 < len(field["value"]) <= FIELD_VALUE_MAX
    assert len(embed["footer"]["text"]) <= FOOTER_MAX
    assert embed_length(embed) <= EMBED_TOTAL_MAX
    assert len(discord.Embed.from_dict(embed)) <= EMBED_TOTAL_MAX, "discord.py counts the same"
    for row in message.components:
        for button in row["components"]:
            assert len(button["custom_id"]) <= CUSTOM_ID_MAX
            assert re.fullmatch(CUSTOM_ID_TEMPLATE, button["custom_id"])


def test_licence_alert_reads_like_the_design_example() -> None:
    message = alert_message(licence_alert())
    embed = message.embed
    assert embed["title"] == "Licence changed — huggingface/text-generation-inference"
    assert embed["color"] == COLOURS[Severity.CRITICAL] == 0xE74C3C
    assert embed["url"] == "https://github.com/huggingface/text-generation-inference"
    assert embed["timestamp"] == "2026-01-05T09:00:00+00:00"
    assert embed["fields"][0] == {
        "name": "Licence",
        "value": "Apache-2.0 (permissive) → HFOIL-1.0 (source-available)",
        "inline": False,
    }
    assert embed["fields"][1]["name"] == "Evidence"
    assert (
        "[Commit bde25e62](https://github.com/huggingface/tgi/commit/bde25e62)"
        in (embed["fields"][1]["value"])
    )
    assert "more restrictive" in embed["description"]
    assert "commercial use now restricted" in embed["description"]
    assert embed["footer"]["text"] == "GitHub · critical · policybot"
    buttons = message.components[0]["components"]
    assert [(b["label"], b["custom_id"]) for b in buttons] == [
        ("Unwatch", "policybot:unwatch:github:huggingface/text-generation-inference"),
        ("Mute 7 days", "policybot:mute:github:huggingface/text-generation-inference"),
        ("Show diff", "policybot:diff:github:huggingface/text-generation-inference"),
    ]
    assert message.attachment is None
    assert_within_limits(message)


@pytest.mark.parametrize(
    "severity, colour",
    [
        (Severity.CRITICAL, 0xE74C3C),
        (Severity.WARNING, 0xE67E22),
        (Severity.NOTICE, 0x3498DB),
        (Severity.INFO, 0x95A5A6),
    ],
    ids=["critical is red", "warning is orange", "notice is blue", "info is grey"],
)
def test_colour_follows_severity(severity: Severity, colour: int) -> None:
    assert alert_message(licence_alert(severity=severity)).embed["color"] == colour


def test_everyone_and_markdown_in_a_real_feed_title_are_shown_literally() -> None:
    """A feed title is upstream text: it must not ping, format or fake a link."""
    xml = corpus_path("feeds", "real", "pypi.newest-packages.2014-08.rss091.xml").read_text()
    real_title = next(t for t in re.findall(r"<title>([^<]*)</title>", xml) if "_" in t)
    assert real_title == "flask_autorest added to PyPI"
    hostile = (
        f"@everyone @here {real_title} **now** <@&123456789012345678> [free](https://evil.example)"
    )
    change = Change(ChangeKind.ENTRY, Severity.NOTICE, f"New entry: {hostile}")
    alert = alert_for("feed:https://pypi.org/rss/packages.xml", "Feed", [change])
    message = alert_message(alert)
    text = message.embed["description"]
    assert "@everyone" not in text and "@here" not in text
    assert "@\u200beveryone" in text and "@\u200bhere" in text, "visible, but not a mention"
    assert "<@&" not in text
    assert "flask\\_autorest" in text, "the real title's underscore stays an underscore"
    assert "\\*\\*now\\*\\*" in text
    assert "\\[free](https://evil.example)" in text, "no masked link can be smuggled in"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("# Terms of Service", "\\# Terms of Service"),
        ("> quoted", "\\> quoted"),
        ("- item", "\\- item"),
        ("1. first", "1\\. first"),
        ("`code`", "\\`code\\`"),
        ("||spoiler||", "\\|\\|spoiler\\|\\|"),
    ],
    ids=["heading", "quote", "list", "numbered list", "inline code", "spoiler"],
)
def test_line_markup_is_escaped(text: str, shown: str) -> None:
    assert escape(text) == shown


def test_seven_thousand_character_diff_is_cut_at_a_line_boundary_and_attached() -> None:
    lines = [f"{'+' if i % 2 else '-'}clause {i}: " + "x" * 60 for i in range(100)]
    excerpt = "\n".join(lines)
    assert len(excerpt) > 7000
    message = alert_message(licence_alert(excerpt=excerpt))
    assert_within_limits(message)
    description = message.embed["description"]
    block = re.search(r"```diff\n(.*)\n```", description, re.S)
    assert block is not None
    shown = block.group(1).splitlines()
    assert shown == lines[: len(shown)], "only whole lines, in order"
    assert 30 < len(shown) < 100
    assert f"… {100 - len(shown)} more lines in diff.txt" in description
    assert message.attachment is not None
    assert message.attachment.filename == "diff.txt"
    assert message.attachment.data.decode() == excerpt, "the whole excerpt travels as a file"


def test_one_enormous_line_is_clipped_rather_than_dropped() -> None:
    message = alert_message(licence_alert(excerpt="+" + "y" * 9000))
    assert_within_limits(message)
    assert "```diff\n+yyy" in message.embed["description"]
    assert message.attachment is not None


def test_a_short_diff_is_inline_and_not_attached() -> None:
    message = alert_message(licence_alert(excerpt="-old line\n+new line"))
    assert "```diff\n-old line\n+new line\n```" in message.embed["description"]
    assert message.attachment is None


def test_fence_in_upstream_diff_cannot_close_the_block() -> None:
    message = alert_message(licence_alert(excerpt="+```\n+@everyone"))
    body = message.embed["description"].split("```diff\n", 1)[1]
    assert body.count("```") == 1, "only our closing fence"


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "T" * 1000},
        {"lines": tuple("line " * 200 for _ in range(40))},
        {"fields": tuple((f"F{i}" * 100, "v" * 3000) for i in range(40))},
        {"links": tuple(Link(f"L{i}" * 50, f"https://e.x/{'p' * 200}/{i}") for i in range(60))},
        {"source_label": "S" * 5000},
        {"excerpt": "\n".join("z" * 300 for _ in range(200)), "fields": (("a", "b" * 1024),) * 5},
    ],
    ids=["long title", "long lines", "40 huge fields", "60 links", "huge footer", "everything"],
)
def test_limits_hold_whatever_the_input(overrides: dict[str, object]) -> None:
    assert_within_limits(alert_message(licence_alert(**overrides)))


def test_long_targets_get_a_digest_custom_id() -> None:
    target = "page:https://example.com/" + "a" * 150
    alert = licence_alert(actions=(Action("unwatch", "Unwatch", target),))
    button = alert_message(alert).components[0]["components"][0]
    assert button["custom_id"] == f"policybot:unwatch:#h{target_digest(target)}"
    assert len(button["custom_id"]) <= CUSTOM_ID_MAX


def test_reply_with_a_long_diff_fits_one_message_and_attaches_the_rest() -> None:
    code = "\n".join(f"+line {i} " + "w" * 40 for i in range(200))
    text = reply_text(Reply(("hf:acme/model: last two versions",), code=code))
    assert len(text.content) <= 2000
    assert text.content.startswith("hf:acme/model: last two versions\n```diff\n+line 0 ")
    assert re.search(r"… \d+ more lines in diff\.txt$", text.content)
    assert text.attachment is not None and text.attachment.data.decode() == code


def test_reply_lines_are_escaped_and_cut_with_a_count() -> None:
    lines = tuple(f"#{i} hf:acme/model_{i} · ok" for i in range(300))
    text = reply_text(Reply(lines))
    assert len(text.content) <= 2000
    assert "hf:acme/model\\_0" in text.content
    assert re.search(r"… \d+ more lines$", text.content)


def test_the_core_never_imports_discord() -> None:
    root = Path(__file__).resolve().parents[1] / "bot"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "discord"]
    assert offenders == []
