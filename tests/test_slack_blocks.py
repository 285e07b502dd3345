"""Alert and Reply → Block Kit, without servers: escaping, limits, cutting. Validity is judged
by slack_sdk's own block models plus Slack's message-level limits (tests.fakes.slack)."""

from __future__ import annotations

import difflib
import json
import re
from datetime import UTC, datetime

import pytest

from adapters.slack_blocks import (
    MESSAGE_CHARS_MAX,
    alert_message,
    alert_plain_text,
    escape,
    fit,
    link,
    message_size,
    reply_message,
)
from bot.alerts.compose import EXCERPT_MAX_LINES, cap_lines, default_actions
from bot.commands.grammar import Reply
from bot.domain.model import Action, Alert, Link, Severity
from tests.conftest import corpus_path
from tests.fakes.slack import block_problems, mentions

NASTY = "<!channel> <!here|here> <@U0BOSS> & <https://evil.example|click me> @everyone"


def make_alert(**overrides: object) -> Alert:
    values: dict[str, object] = {
        "title": "Licence changed — huggingface/text-generation-inference",
        "severity": Severity.CRITICAL,
        "target": "github:huggingface/text-generation-inference",
        "source_label": "GitHub repository",
        "lines": ("Apache-2.0 (permissive) → HFOIL-1.0 (source-available) · more restrictive",),
        "fields": (("Licence", "Apache-2.0 (permissive) → HFOIL-1.0 (source-available)"),),
        "links": (Link("commit", "https://github.com/huggingface/text-generation-inference"),),
        "actions": default_actions("github:huggingface/text-generation-inference"),
        "detected_at": datetime(2023, 7, 28, 14, 2, tzinfo=UTC),
    }
    values.update(overrides)
    return Alert(**values)  # type: ignore[arg-type]


def licence_diff() -> list[str]:
    folder = corpus_path("licence-history", "text-generation-inference")
    before = (folder / "LICENSE.2023-07-before-apache-2.0").read_text().splitlines()
    after = (folder / "LICENSE.2023-07-28-after-hfoil-1.0").read_text().splitlines()
    return list(difflib.unified_diff(before, after, "LICENSE", "LICENSE", lineterm=""))


def code_lines(blocks: list[dict[str, object]]) -> list[str]:
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and str(text["text"]).startswith("```"):
            return str(text["text"]).removeprefix("```\n").removesuffix("\n```").split("\n")
    return []


def mrkdwn_objects(node: object) -> list[object]:
    if isinstance(node, dict):
        own = [node] if node.get("type") == "mrkdwn" else []
        return own + [o for v in node.values() for o in mrkdwn_objects(v)]
    if isinstance(node, list):
        return [o for v in node for o in mrkdwn_objects(v)]
    return []


def all_text(blocks: object) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_a_real_licence_diff_is_cut_at_a_line_boundary_and_counts_the_rest() -> None:
    diff = licence_diff()
    assert len(diff) > 300
    message = alert_message(make_alert(excerpt="\n".join(diff)))
    blocks = list(message.blocks)
    assert block_problems(blocks) == []
    shown = code_lines(blocks)
    assert 10 < len(shown) < len(diff)
    assert shown == [escape(line) for line in diff[: len(shown)]], "whole lines, in order"
    assert f"… {len(diff) - len(shown)} more lines · *Show diff* for all" in all_text(blocks)


def test_the_renderers_own_cut_is_added_to_the_count() -> None:
    diff = licence_diff()
    excerpt = cap_lines("\n".join(diff), EXCERPT_MAX_LINES)  # what bot.alerts.compose stores
    message = alert_message(make_alert(excerpt=excerpt))
    shown = code_lines(list(message.blocks))
    assert len(shown) == EXCERPT_MAX_LINES, "30 short lines fit whole"
    assert f"… {len(diff) - EXCERPT_MAX_LINES} more lines" in all_text(message.blocks)
    assert "more lines" not in "\n".join(shown), "the marker is not shown as a diff line"


def test_an_alert_has_header_fields_links_and_buttons() -> None:
    message = alert_message(make_alert())
    header, summary, fields, context, actions = message.blocks
    assert header["text"]["text"] == (
        ":red_circle: Licence changed — huggingface/text-generation-inference"
    )
    assert summary["text"]["text"].startswith("*Critical* · GitHub repository\nApache-2.0")
    assert fields["fields"][0]["text"] == (
        "*Licence*\nApache-2.0 (permissive) → HFOIL-1.0 (source-available)"
    )
    assert context["elements"][0]["text"] == (
        "`github:huggingface/text-generation-inference` · detected 2023-07-28 14:02 UTC"
    )
    assert context["elements"][1]["text"] == (
        "<https://github.com/huggingface/text-generation-inference|commit>"
    )
    assert [(b["action_id"], b["value"]) for b in actions["elements"]] == [
        ("policybot_unwatch", "github:huggingface/text-generation-inference"),
        ("policybot_mute", "github:huggingface/text-generation-inference"),
        ("policybot_diff", "github:huggingface/text-generation-inference"),
    ]
    assert message.text.startswith(":red_circle: Licence changed — huggingface/")
    assert alert_message(make_alert(), buttons=False).blocks[-1]["type"] == "context"


def test_upstream_text_everywhere_pings_nobody() -> None:
    alert = make_alert(
        title=f"New entry — {NASTY}",
        source_label=NASTY,
        lines=(NASTY, "```", NASTY),
        fields=((NASTY, NASTY),),
        excerpt=f"+{NASTY}\n```\n{NASTY}\n```",
        links=(
            Link(NASTY, "https://example.com/a?b=1&c=<2>|x"),
            Link("bad", "javascript:alert(1)"),
        ),
    )
    message = alert_message(alert)
    assert block_problems(list(message.blocks)) == []
    assert mentions({"text": message.text, "blocks": list(message.blocks)}) == []
    assert mentions({"text": alert_plain_text(alert)}) == []
    shown = all_text(message.blocks)
    assert "&lt;!channel&gt;" in shown and "&amp;" in shown
    assert "<https://example.com/a?b=1&amp;c=%3C2%3E%7Cx|" in shown, "URL cannot break the link"
    assert "javascript:" not in shown.replace("javascript:alert(1)", "")
    assert "<javascript" not in shown
    # In mrkdwn (what Slack parses), only our own link markup opens a "<".
    parsed = all_text([e for b in message.blocks for e in mrkdwn_objects(b)])
    assert re.findall(r"<(?!https://)", parsed) == []
    # The fence inside the excerpt cannot close the code block early.
    assert code_lines(list(message.blocks))[1] == "`\u200b`\u200b`"


@pytest.mark.parametrize("scale", [1, 10, 100], ids=["small", "large", "huge"])
def test_every_message_fits_whatever_the_input_size(scale: int) -> None:
    long = ("x" * 97 + "<&>") * scale
    alert = make_alert(
        title=long,
        source_label=long,
        lines=tuple(long for _ in range(5 * scale)),
        fields=tuple((long, long) for _ in range(3 * scale)),
        excerpt="\n".join(f"+{i} {long}" for i in range(20 * scale)),
        links=tuple(Link(long, f"https://example.com/{i}/{long}") for i in range(4 * scale)),
        actions=(*default_actions("hf:acme/x"), Action("unwatch", long, "hf:" + long)),
    )
    message = alert_message(alert)
    assert block_problems(list(message.blocks)) == []
    assert message_size(message.blocks) <= MESSAGE_CHARS_MAX
    assert len(message.text) <= 3000
    parsed = all_text([e for b in message.blocks for e in mrkdwn_objects(b)])
    assert re.findall(r"&(?!amp;|lt;|gt;)", parsed) == [], (
        "every & starts a whole escape sequence: none was cut in half"
    )
    if scale > 1:
        assert "more line" in all_text(message.blocks)


def test_fit_never_cuts_an_escape_sequence() -> None:
    for limit in range(1, 40):
        out = fit("&" * 50, limit)
        assert len(out) <= limit
        assert out.rstrip("…").replace("&amp;", "") == ""


def test_link_refuses_what_cannot_be_a_link() -> None:
    assert link("page", "ftp://example.com/x") == "page"
    assert link("p|age", "https://example.com/x") == "<https://example.com/x|p¦age>"
    assert link("page", "https://example.com/" + "a" * 5000) == "page"


def test_a_long_diff_reply_is_cut_and_says_how_much() -> None:
    diff = licence_diff() * 5
    message = reply_message(Reply(("hf:acme/x: last two versions",), code="\n".join(diff)))
    assert block_problems(list(message.blocks)) == []
    shown = code_lines(list(message.blocks))
    assert f"… {len(diff) - len(shown):,} more lines (of {len(diff):,}) not shown" in all_text(
        message.blocks
    )
    assert message.text == "hf:acme/x: last two versions"


def test_a_reply_with_thousands_of_lines_stays_within_limits() -> None:
    lines = tuple(
        f"#{i} hf:acme/model-{i} → slack:C0123 · ok · checked 3 min ago" for i in range(3000)
    )
    message = reply_message(Reply(lines))
    assert block_problems(list(message.blocks)) == []
    assert message_size(message.blocks) <= MESSAGE_CHARS_MAX
    shown = sum(len(str(b["text"]["text"]).split("\n")) for b in message.blocks if "text" in b)
    assert f"… {3000 - shown:,} more lines"  # grouped for the locale in all_text(message.blocks)
