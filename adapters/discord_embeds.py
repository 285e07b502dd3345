"""Alert → Discord message (embed, buttons, attachment), and Reply → message text. Pure.

Upstream text (licence names, page text, feed titles) is data: every piece of it is escaped
for Discord markdown and mentions here, and the senders add ``allowed_mentions`` = none, so
nothing an upstream writes can ping or reformat a channel. The output is plain Discord API
JSON (dicts), so it is tested without discord.py and shared by the bot and the webhook paths.

Discord rejects a whole message whose embed breaks a limit (400), so every limit below is
enforced whatever the input; the excerpt is cut first, at a line boundary, with a count, and
the whole excerpt then travels as an attached file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.alerts.compose import severity_text
from bot.domain.model import Alert, Link, Severity
from bot.i18n import msg, nmsg, render
from bot.net import safe_link

if TYPE_CHECKING:  # a type only: the command grammar is no import of alert rendering
    from bot.commands.grammar import Reply

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CONTENT_MAX = 2000
CUSTOM_ID_MAX = 100

COLOURS = {
    Severity.CRITICAL: 0xE74C3C,  # red
    Severity.WARNING: 0xE67E22,  # orange
    Severity.NOTICE: 0x3498DB,  # blue
    Severity.INFO: 0x95A5A6,  # grey
}
_BUTTON_STYLE = {"unwatch": 4, "mute": 2, "diff": 2}  # 4 danger, 2 secondary
CUSTOM_ID_PREFIX = "policybot"
CUSTOM_ID_TEMPLATE = r"policybot:(?P<action>unwatch|mute|diff):(?P<target>.+)"
_LINE_START = re.compile(r"^(\s*)(#{1,3} |-# |> |>>> |[-*+] )", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)([.)] )", re.MULTILINE)
EXCERPT_FILENAME = "diff.txt"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """One message as Discord's API takes it: an embed, action rows, optional file."""

    embed: dict[str, Any]
    components: list[dict[str, Any]]
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class ReplyText:
    content: str
    attachment: Attachment | None = None


def escape(text: str) -> str:
    """Upstream text shown literally: no markdown, no headings or lists, no mentions."""
    # Imported here: importing discord costs ~0.25 s of start-up, and the Discord webhook
    # adapter (which uses this module) is built in every process, even one that never
    # posts to Discord.
    from discord.utils import escape_markdown, escape_mentions

    text = escape_markdown(text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    text = _NUMBERED.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return escape_mentions(text)


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in ``…`` when something was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if cut.endswith("\\"):  # never leave a dangling escape
        cut = cut[:-1]
    return cut + "…"


_ZWSP = "\u200b"


def code_block(text: str, lang: str = "diff") -> str:
    """A fenced block whose body cannot close the fence early."""
    body = text.replace("```", "`" + _ZWSP + "``")
    return f"```{lang}\n{body}\n```"


def cut_lines(text: str, budget: int) -> tuple[str, int]:
    """Keep whole lines while they fit in ``budget`` characters; return (kept, lines left out).

    If not even the first line fits, that line is clipped: a cut line is better than nothing.
    """
    lines = text.splitlines()
    kept: list[str] = []
    used = 0
    for line in lines:
        cost = len(line) + (1 if kept else 0)
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    if not kept and lines:
        return clip(lines[0], max(budget, 1)), len(lines) - 1
    return "\n".join(kept), len(lines) - len(kept)


def custom_id(action: str, target: str) -> str:
    """``policybot:<action>:<target>``; a target too long for Discord's 100 characters is
    replaced by ``#h<digest>``, which the click handler resolves among the channel's watches."""
    plain = f"{CUSTOM_ID_PREFIX}:{action}:{target}"
    if len(plain) <= CUSTOM_ID_MAX:
        return plain
    return f"{CUSTOM_ID_PREFIX}:{action}:#h{target_digest(target)}"


def target_digest(target: str) -> str:
    return hashlib.sha256(target.encode()).hexdigest()[:24]


def alert_message(alert: Alert) -> DiscordMessage:
    """The embed, buttons and (when the excerpt had to be cut) the excerpt as a file."""
    title = clip(escape(alert.title), TITLE_MAX)
    severity = render(severity_text(alert.severity), alert.language)
    footer = clip(
        " · ".join(p for p in (alert.source_label, severity, "policybot") if p),
        FOOTER_MAX,
    )
    fields = _fields(alert, EMBED_TOTAL_MAX - len(title) - len(footer) - 500)
    text = "\n".join(escape(line) for line in alert.lines)
    fixed = len(title) + len(footer) + sum(len(f["name"]) + len(f["value"]) for f in fields)
    description, attachment = _description(
        text, alert.excerpt, min(DESCRIPTION_MAX, EMBED_TOTAL_MAX - fixed), alert.language
    )
    embed: dict[str, Any] = {
        "type": "rich",
        "title": title,
        "color": COLOURS[alert.severity],
        "fields": fields,
        "footer": {"text": footer},
    }
    if description:
        embed["description"] = description
    linkable = [lk for lk in alert.links if safe_link(lk.url)]
    if linkable:
        embed["url"] = linkable[0].url
    if alert.detected_at is not None:
        embed["timestamp"] = alert.detected_at.isoformat()
    return DiscordMessage(embed, _components(alert), attachment)


def _fields(alert: Alert, budget: int) -> list[dict[str, Any]]:
    """Fact fields then evidence links, at most 25 and within ``budget`` characters."""
    lang = alert.language
    fields: list[dict[str, Any]] = [
        {
            "name": clip(escape(name), FIELD_NAME_MAX) or _ZWSP,
            "value": clip(escape(value), FIELD_VALUE_MAX) or _ZWSP,
            "inline": False,
        }
        for name, value in alert.fields
    ]
    evidence = _links_value(alert.links)
    if evidence:
        name = render(msg("Evidence"), lang)
        fields.append({"name": name, "value": evidence, "inline": False})
    kept: list[dict[str, Any]] = []
    used = 0
    for field in fields[: FIELDS_MAX - 1]:
        cost = len(field["name"]) + len(field["value"])
        if used + cost > budget - 40:
            break
        kept.append(field)
        used += cost
    if len(kept) < len(fields):
        left = len(fields) - len(kept)
        note = render(nmsg("{n} more field not shown", "{n} more fields not shown", left), lang)
        kept.append({"name": render(msg("More"), lang), "value": note, "inline": False})
    return kept


def _links_value(links: tuple[Link, ...]) -> str:
    """Masked links while they fit in one field value; the rest are counted."""
    parts: list[str] = []
    used = 0
    links = tuple(lk for lk in links if safe_link(lk.url))  # http(s), short: else dropped
    for index, link in enumerate(links):
        part = f"[{clip(escape(link.label), 80)}]({_safe_url(link.url)})"
        after = len(links) - index - 1
        tail = len(f" · +{after} more") if after else 0
        if used + (3 if parts else 0) + len(part) + tail > FIELD_VALUE_MAX:
            parts.append(f"+{len(links) - index} more")
            break
        used += (3 if parts else 0) + len(part)
        parts.append(part)
    return " · ".join(parts)


def _safe_url(url: str) -> str:
    """A URL that cannot end a markdown link early or smuggle markup."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C")


def _description(
    text: str, excerpt: str | None, room: int, lang: str = "en"
) -> tuple[str, Attachment | None]:
    """What changed (lines first), then the excerpt in a diff block, cut to ``room``."""
    text = clip(text, max(room, 0))
    if not excerpt:
        return text, None
    whole = f"{text}\n{code_block(excerpt)}".strip()
    if len(whole) <= room:
        return whole, None
    total = len(excerpt.splitlines())
    spare = room - len(text) - 2 - len(code_block("")) - _note_room(total, lang)
    body, left_out = cut_lines(excerpt, spare) if spare >= 40 else ("", total)
    parts = (text, code_block(body) if body else "", _more(left_out, lang))
    return "\n".join(p for p in parts if p), Attachment(EXCERPT_FILENAME, excerpt.encode())


def _more(lines: int, lang: str = "en") -> str:
    """The note under a cut excerpt (0 lines left out: the one long line itself was cut)."""
    if lines == 0:
        return render(msg("… cut here; the whole diff is in {file}", file=EXCERPT_FILENAME), lang)
    said = nmsg(
        "… {n} more line in {file}", "… {n} more lines in {file}", lines, file=EXCERPT_FILENAME
    )
    return render(said, lang)


def _note_room(total_lines: int, lang: str = "en") -> int:
    return max(len(_more(0, lang)), len(_more(total_lines, lang)))


def _components(alert: Alert) -> list[dict[str, Any]]:
    evidence = safe_link(alert.evidence_url) if alert.evidence_url else None
    buttons = [
        # With an evidence page, "Show diff" is a link button (style 5) that opens it.
        {"type": 2, "style": 5, "label": clip(action.label, 80), "url": evidence}
        if action.kind == "diff" and evidence and len(evidence) <= 512
        else {
            "type": 2,
            "style": _BUTTON_STYLE.get(action.kind, 2),
            "label": clip(action.label, 80),
            "custom_id": custom_id(action.kind, action.value),
        }
        for action in alert.actions
        if action.kind in _BUTTON_STYLE
    ][:5]
    return [{"type": 1, "components": buttons}] if buttons else []


def embed_length(embed: dict[str, Any]) -> int:
    """What Discord counts against the 6,000 limit (as ``len(discord.Embed)`` does)."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", ()))
    return total


def reply_text(reply: Reply) -> ReplyText:
    """A command reply as message content (≤ 2,000 characters); a long diff goes as a file."""
    head = "\n".join(escape(line) for line in reply.said())
    if not reply.code:
        body, left_out = cut_lines(head, CONTENT_MAX - 40)
        more = nmsg("… {n} more line", "… {n} more lines", left_out)
        return ReplyText(body + (f"\n{render(more, reply.language)}" if left_out else ""))
    head = clip(head, CONTENT_MAX // 2)
    whole = f"{head}\n{code_block(reply.code)}"
    if len(whole) <= CONTENT_MAX:
        return ReplyText(whole)
    total = len(reply.code.splitlines())
    spare = CONTENT_MAX - len(head) - 2 - len(code_block("")) - _note_room(total, reply.language)
    body, left_out = cut_lines(reply.code, spare)
    return ReplyText(
        f"{head}\n{code_block(body)}\n{_more(left_out, reply.language)}",
        Attachment(EXCERPT_FILENAME, reply.code.encode()),
    )
