"""Neutral alerts and replies → Slack Block Kit messages. Pure: no I/O.

Two rules shape every function here:

* **Upstream text is data** (design invariant 4). Every piece of text that reaches a mrkdwn
  field is escaped (``&``, ``<``, ``>``), so ``<!channel>`` in a feed title is shown, not
  obeyed; mrkdwn text objects are ``verbatim`` so Slack does not turn a bare ``@here`` into a
  mention either. Plain-text objects (header, button labels) are never parsed by Slack.
* **Every message fits**, whatever the input size (platform-facts §3.5): header ≤ 150 chars,
  section ≤ 3000, field ≤ 2000, ≤ 10 fields, ≤ 10 context elements, button text ≤ 75, value
  ≤ 2000, ≤ 50 blocks, and the whole message well below the ~13k characters at which Slack
  has been seen answering ``msg_blocks_too_long``. Long text is cut at a line boundary and
  says how much was left out ("… N more lines"); an escape sequence is never cut in half.

Blocks are plain dicts (what the Web API and ``ack()`` take); the tests check them with
slack_sdk's block models.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bot.alerts.compose import more_lines_note, severity_text, title_and_source
from bot.domain.model import Alert, Severity
from bot.i18n import msg, nmsg, render
from bot.net import safe_link

if TYPE_CHECKING:  # a type only: the command grammar is no import of alert rendering
    from bot.commands.grammar import Reply

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
CONTEXT_ELEMENTS_MAX = 10
CONTEXT_TEXT_MAX = 2000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
BLOCKS_MAX = 50
# Sum of all text in one message. Documented limits allow more, but Slack has refused
# messages of about 13k block characters (bolt-js#2509), so stay clearly below.
MESSAGE_CHARS_MAX = 11_000
FALLBACK_MAX = 3000

Block = dict[str, Any]

ACTION_PREFIX = "policybot_"
ACTION_KINDS = ("unwatch", "mute", "diff")
# A link button still sends an interaction; this id names no action, so it is only acked.
EVIDENCE_ACTION = ACTION_PREFIX + "evidence"

_EMOJI = {
    Severity.CRITICAL: ":red_circle:",
    Severity.WARNING: ":large_orange_circle:",
    Severity.NOTICE: ":large_blue_circle:",
    Severity.INFO: ":white_circle:",
}
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# The count in the note ("… 12 more lines", "… altre 12 righe"), grouped as the locale does.
_MORE_LINES = re.compile(r"^…\D*(\d[\d.,\u00a0\u202f]*)")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What ``chat.postMessage``, ``ack()`` and ``respond()`` take: fallback text + blocks."""

    text: str
    blocks: tuple[Block, ...]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": list(self.blocks)}


def escape(text: str) -> str:
    """Escape the three characters Slack reads as control sequences in mrkdwn."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def fit(raw: str, limit: int) -> str:
    """``raw`` escaped, at most ``limit`` characters, cut with "…" between whole characters.

    Reads at most ``limit`` characters of ``raw`` (escaping only lengthens), so a 10 MB line
    costs no more than a short one.
    """
    head = raw[: limit + 1]
    escaped = escape(head)
    if len(raw) <= limit and len(escaped) <= limit:
        return escaped
    out: list[str] = []
    size = 0
    for ch in head:
        piece = _ESCAPES.get(ch, ch)
        if size + len(piece) > limit - 1:
            break
        out.append(piece)
        size += len(piece)
    return "".join(out) + "…"


def fit_plain(raw: str, limit: int) -> str:
    """Plain-text objects are shown as they are: only the length needs care."""
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


def fit_lines(lines: Sequence[str], limit: int, *, code: bool = False) -> tuple[str, int]:
    """Whole escaped lines joined by newlines within ``limit``; returns (text, lines left out).

    A single line longer than the limit is cut (with "…") rather than dropped, so the reader
    always sees the start of what changed.
    """
    kept: list[str] = []
    size = 0
    for index, raw in enumerate(lines):
        line = _code_safe(raw) if code else raw
        sep = 1 if kept else 0
        fits = size + sep + len(line) <= limit  # escaping only lengthens: cheap test first
        piece = escape(line) if fits else ""
        if not fits or size + sep + len(piece) > limit:
            if not kept:
                return fit(line, limit), len(lines) - index - 1
            return "\n".join(kept), len(lines) - index
        kept.append(piece)
        size += sep + len(piece)
    return "\n".join(kept), 0


def more_lines(count: int, lang: str = "en") -> str:
    return render(nmsg("… {n} more line", "… {n} more lines", count), lang)


def safe_url(url: str) -> str | None:
    """An http(s) URL safe inside ``<url|label>``, or None when it cannot be linked (a
    ``javascript:`` or overlong link is dropped, not sent for Slack to refuse the message).

    Characters that would end the link early (``|``, ``>``) or start a control sequence
    (``<``) are percent-encoded; ``&`` becomes ``&amp;`` as Slack requires.
    """
    checked = safe_link(url)  # http(s) only, no spaces or controls, at most LINK_MAX
    if checked is None:
        return None
    url = checked
    encoded = quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")
    encoded = encoded.replace("&", "&amp;")
    return encoded if len(encoded) <= URL_MAX - 200 else None


def link(label: str, url: str, limit: int = CONTEXT_TEXT_MAX) -> str:
    """``<url|label>`` when the URL is linkable and fits, else the escaped label alone."""
    target = safe_url(url)
    text = fit(label.replace("|", "¦"), 200)
    if target is None or len(target) + len(text) + 3 > limit:
        return text
    return f"<{target}|{text}>"


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:CONTEXT_ELEMENTS_MAX]]}


def code_block(lines: Sequence[str], limit: int) -> tuple[str, int]:
    """A fenced code block within ``limit`` characters; returns (text, lines left out)."""
    body, omitted = fit_lines(lines, max(1, limit - 8), code=True)
    return f"```\n{body}\n```", omitted


def action_id(kind: str) -> str:
    return ACTION_PREFIX + kind


def action_kind(action: str) -> str | None:
    """``policybot_unwatch`` → ``unwatch``; None for ids that are not ours."""
    kind = action.removeprefix(ACTION_PREFIX)
    return kind if action.startswith(ACTION_PREFIX) and kind in ACTION_KINDS else None


# -- alerts ---------------------------------------------------------------------------------


def alert_message(alert: Alert, *, buttons: bool = True) -> SlackMessage:
    """One alert as Block Kit: header, what changed, before → after fields, a diff excerpt,
    evidence links, and the Unwatch / Mute 7 days / Show diff buttons.

    Each part has its own budget (:data:`ALERT_BUDGET`) so the parts that matter most are
    never squeezed out; the diff excerpt gets what is left of :data:`MESSAGE_CHARS_MAX`.
    """
    emoji = _EMOJI[alert.severity]
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": fit_plain(f"{emoji} {alert.title}", HEADER_MAX),
                "emoji": True,
            },
        }
    ]
    severity = render(severity_text(alert.severity), alert.language).capitalize()
    head = f"*{severity}* · {fit(alert.source_label, 200)}"
    body, omitted = fit_lines(alert.lines, ALERT_BUDGET["summary"] - len(head) - 40)
    summary = head + ("\n" + body if body else "")
    if omitted:
        summary += "\n_" + more_lines(omitted) + "_"
    blocks.append(section(summary))

    shown = alert.fields[:FIELDS_MAX]
    if shown:
        each = min(FIELD_MAX, ALERT_BUDGET["fields"] // len(shown))
        blocks.append({"type": "section", "fields": [mrkdwn(_field(n, v, each)) for n, v in shown]})

    tail = _alert_tail(alert, buttons)
    used = _size(blocks) + _size(tail)
    if alert.excerpt:
        blocks.extend(_excerpt(alert.excerpt, MESSAGE_CHARS_MAX - used, alert.language))
    blocks.extend(tail)

    first = alert.lines[0] if alert.lines else alert.source_label
    text = fit(f"{alert.title}: {first}", FALLBACK_MAX - len(emoji) - 1)
    return SlackMessage(f"{emoji} {text}", tuple(blocks[:BLOCKS_MAX]))


# Characters per part of an alert; what the excerpt may use is the rest of the message.
ALERT_BUDGET = {"summary": 2000, "fields": 2000, "context": 1500, "button_value": 500}


def alert_plain_text(alert: Alert) -> str:
    """The alert as escaped mrkdwn text alone, for when Slack refuses its blocks."""
    title, source = title_and_source(alert)
    lines = [f"{_EMOJI[alert.severity]} *{title}* ({source})", *alert.lines]
    lines += [f"{name}: {value}" for name, value in alert.fields]
    lines += [f"{lk.label}: {lk.url}" for lk in alert.links if safe_url(lk.url)]
    text, omitted = fit_lines(lines, FALLBACK_MAX - 40)
    return text + ("\n" + more_lines(omitted) if omitted else "")


def _already_cut(line: str, lang: str) -> int:
    """How many lines bot.alerts.compose left out of the excerpt, when ``line`` is its note
    (said in ``lang``, or in English in an alert queued before the note was a message)."""
    match = _MORE_LINES.match(line)
    if match is None:
        return 0
    count = int(re.sub(r"\D", "", match.group(1)))
    note = more_lines_note(count)
    return count if line in (render(note, lang), str(note)) else 0


def _field(name: str, value: str, limit: int) -> str:
    label = fit(name, min(100, limit // 3))
    return f"*{label}*\n{fit(value, limit - len(label) - 3)}"


def _excerpt(excerpt: str, budget: int, lang: str) -> list[Block]:
    lines = excerpt.splitlines()
    already_cut = 0
    if lines and (cut := _already_cut(lines[-1].strip(), lang)):
        already_cut = cut
        lines = lines[:-1]
    room = min(SECTION_MAX, budget - 120)
    if room < 200 or not lines:
        note = render(msg("_Diff excerpt left out (message size); use *Show diff*._"), lang)
        return [context(note)] if lines else []
    text, omitted = code_block(lines, room)
    blocks = [section(text)]
    if omitted + already_cut:
        more = msg("{lines} · *Show diff* for all", lines=more_lines(omitted + already_cut, lang))
        blocks.append(context(f"_{render(more, lang)}_"))
    return blocks


def _alert_tail(alert: Alert, buttons: bool) -> list[Block]:
    """Evidence links and detection time (context), then the buttons (actions)."""
    budget = ALERT_BUDGET["context"]
    meta = f"`{fit(alert.target, 300)}`"
    if alert.detected_at:
        detected = msg("detected {at} UTC", at=alert.detected_at)
        meta += f" · {render(detected, alert.language)}"
    elements = [meta]
    budget -= len(meta)
    left = len(alert.links)
    for lk in alert.links:
        if len(elements) == CONTEXT_ELEMENTS_MAX - 1 and left > 1:
            break
        piece = link(lk.label, lk.url, limit=min(CONTEXT_TEXT_MAX, budget - 40))
        if len(piece) > budget - 40:
            break
        elements.append(piece)
        budget -= len(piece)
        left -= 1
    if left:
        elements.append(render(nmsg("+{n} more link", "+{n} more links", left), alert.language))
    tail: list[Block] = [context(*elements)]
    if buttons:
        row: list[Block] = []
        evidence = safe_link(alert.evidence_url) if alert.evidence_url else None
        for action in alert.actions:
            if action.kind == "diff" and evidence and len(evidence) <= URL_MAX:
                # A link button: "Show diff" opens the whole evidence page (bot.evidence).
                row.append(
                    {
                        "type": "button",
                        "action_id": EVIDENCE_ACTION,
                        "text": {
                            "type": "plain_text",
                            "text": fit_plain(action.label, BUTTON_TEXT_MAX),
                            "emoji": True,
                        },
                        "url": evidence,
                    }
                )
                continue
            if action.kind not in ACTION_KINDS or len(action.value) > ALERT_BUDGET["button_value"]:
                continue  # a button that cannot carry its whole target would act on another
            row.append(
                {
                    "type": "button",
                    "action_id": action_id(action.kind),
                    "text": {
                        "type": "plain_text",
                        "text": fit_plain(action.label, BUTTON_TEXT_MAX),
                        "emoji": True,
                    },
                    "value": action.value,
                }
            )
        if row:
            tail.append({"type": "actions", "elements": row})
    return tail


# -- replies to commands --------------------------------------------------------------------


def reply_message(reply: Reply) -> SlackMessage:
    """A command's answer: its lines as sections, its code (a diff) as a code block."""
    blocks: list[Block] = []
    budget = MESSAGE_CHARS_MAX - 300  # room for the "… N more lines" notes
    lines = list(reply.said())
    code_room = 0
    if reply.code:
        code_room = min(SECTION_MAX, budget // 2)
        budget -= code_room
    while lines and len(blocks) < BLOCKS_MAX - 3 and budget > 200:
        text, omitted = fit_lines(lines, min(SECTION_MAX, budget))
        blocks.append(section(text))
        budget -= len(text)
        lines = lines[len(lines) - omitted :] if omitted else []
    if lines:
        blocks.append(context(f"_{more_lines(len(lines), reply.language)}_"))
    if reply.code:
        code_lines = reply.code.splitlines()
        text, omitted = code_block(code_lines, min(SECTION_MAX, code_room + max(0, budget)))
        blocks.append(section(text))
        if omitted:
            lines_left = more_lines(omitted, reply.language)
            said = msg("{lines} (of {n}) not shown", lines=lines_left, n=len(code_lines))
            blocks.append(context(f"_{render(said, reply.language)}_"))
    first = reply.said()[0] if reply.lines else ""
    return SlackMessage(fit(first, FALLBACK_MAX), tuple(blocks[:BLOCKS_MAX]))


def _code_safe(text: str) -> str:
    """A run of three backticks would close the code fence early."""
    return text.replace("```", "`\u200b`\u200b`")


def _size(blocks: Sequence[Block]) -> int:
    """Characters of text in blocks (what Slack's message size check counts, roughly)."""
    total = 0

    def walk(node: Any) -> None:
        nonlocal total
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "value", "url") and isinstance(value, str):
                    total += len(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(list(blocks))
    return total


message_size = _size
