"""Parse what users type into canonical target references and channel addresses.

Pure functions. ``hf:meta-llama/Llama-2-7b-hf``, ``https://huggingface.co/meta-llama/Llama-2-7b-hf/tree/main``
and ``huggingface.co/meta-llama/Llama-2-7b-hf`` all name the same target, so they must become
the same string: that string is the target's identity in the store.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.domain.errors import InvalidTarget
from bot.domain.model import ChannelAddress, TargetRef
from bot.i18n import msg

_SEGMENT = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,95})"
_SEGMENT_RE = re.compile(rf"^{_SEGMENT}$")
HF_REPO_TYPES = ("models", "datasets", "spaces")
_HF_HOSTS = {"huggingface.co", "www.huggingface.co", "hf.co"}
_GITHUB_HOSTS = {"github.com", "www.github.com"}
# Path segments after owner/name that only say "which view of the repo".
_HF_VIEW_WORDS = {
    "tree",
    "blob",
    "resolve",
    "raw",
    "commits",
    "commit",
    "discussions",
    "discussion",
}

# The URL Discord shows for a channel webhook (Server Settings → Integrations → Webhooks).
DISCORD_WEBHOOK_URL = re.compile(
    r"^https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api(?:/v\d+)?/webhooks/"
    r"(?P<id>\d{17,20})/(?P<token>[A-Za-z0-9._-]{60,})/?(?:\?(?P<query>[^#]*))?$"
)
# Whole-organisation watches are their own kinds (``hf-org:<owner>``, ``github-org:<owner>``):
# a listing of many repos is a different fetch, snapshot and alert from one repo.
HF_ORG = "hf-org"
GITHUB_ORG = "github-org"
# A Slack channel id (C…, G… private, D… direct), optionally after its workspace's team id
# (T…, or E… for an Enterprise Grid org): ``slack:C0456`` names the one workspace of
# SLACK_BOT_TOKEN, ``slack:T0123/C0456`` one of many (installs through SLACK_CLIENT_ID).
SLACK_CHANNEL = re.compile(r"(?:[TE][A-Z0-9]{1,20}/)?[CGD][A-Z0-9]{0,20}")
CHANNEL_PLATFORMS = ("console", "slack", "slack-webhook", "discord", "discord-webhook", "webhook")


def parse_target(text: str, *, hub_hosts: frozenset[str] = frozenset()) -> TargetRef:
    """Turn a reference or URL into a canonical :class:`TargetRef`.

    ``hub_hosts`` adds hosts of a configured Hub mirror (``HF_ENDPOINT``) whose URLs are read
    like huggingface.co URLs.
    """
    raw = text.strip()
    if not raw:
        raise InvalidTarget(msg("missing target: give a reference like hf:owner/name or a URL"))
    lowered = raw.lower()
    if lowered.startswith("preset:"):
        raise InvalidTarget(
            msg(
                "{given} is a preset (a set of watches), not one target: use it with watch; "
                "its sources are then ordinary watches (see list)",
                given=repr(raw),
            )
        )
    if lowered.startswith("hf:"):
        return _hf_path(raw[3:], raw)
    if lowered.startswith("github:"):
        return _github_path(raw[7:], raw)
    if lowered.startswith((f"{HF_ORG}:", f"{GITHUB_ORG}:")):  # the canonical form read back
        kind, _, owner = raw.partition(":")
        form = "hf:org/<owner>" if kind.lower() == HF_ORG else "github:org/<owner>"
        return TargetRef(kind.lower(), _owner([s for s in owner.split("/") if s], raw, form))
    if lowered.startswith(("page:", "feed:")):
        kind, _, url = raw.partition(":")
        return TargetRef(kind.lower(), _web_url(url, raw))
    if lowered.startswith(("http://", "https://")) or "/" in raw:
        return _from_url(raw, hub_hosts)
    raise InvalidTarget(
        msg(
            "cannot read {given} as a target: use hf:owner/name, hf:datasets/owner/name, "
            "hf:spaces/owner/name, hf:org/<owner>, github:owner/repo, github:org/<owner>, "
            "page:<url>, feed:<url> or a URL",
            given=repr(raw),
        )
    )


def preset_name(text: str) -> str | None:
    """``preset:huggingface`` → ``"huggingface"``; None for anything else. Only ``watch``
    takes presets: they expand into ordinary targets and are never stored as one."""
    raw = text.strip()
    if raw.lower().startswith("preset:"):
        name = raw[7:].strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
            raise InvalidTarget(
                msg("{given}: a preset name is a word, e.g. preset:huggingface", given=repr(raw))
            )
        return name
    return None


def _from_url(raw: str, hub_hosts: frozenset[str]) -> TargetRef:
    candidate = raw if "://" in raw else "https://" + raw
    parts = urlsplit(candidate)
    host = (parts.hostname or "").lower()
    netloc = parts.netloc.lower()
    if host in _HF_HOSTS or host in hub_hosts or netloc in hub_hosts:
        return _hf_path(parts.path, raw)
    if host in _GITHUB_HOSTS:
        return _github_path(parts.path, raw)
    if "://" not in raw:
        raise InvalidTarget(
            msg("cannot read {given} as a target: URLs need http:// or https://", given=repr(raw))
        )
    # A bare web URL: page or feed is decided by sniffing when the watch is created.
    return TargetRef("url", _web_url(raw, raw))


def _hf_path(path: str, raw: str) -> TargetRef:
    segments = [s for s in path.strip().strip("/").split("/") if s]
    kind = "models"
    if segments and segments[0] in HF_REPO_TYPES:
        kind = segments.pop(0)
    if segments and segments[0] == "org" and kind == "models":
        return TargetRef(HF_ORG, _owner(segments[1:], raw, "hf:org/<owner>"))
    if not segments:
        raise InvalidTarget(
            msg("{given} names no repository: expected owner/name", given=repr(raw))
        )
    if len(segments) >= 3 and segments[2] not in _HF_VIEW_WORDS:
        raise InvalidTarget(
            msg("{given} is not a repository path: expected owner/name", given=repr(raw))
        )
    repo = segments[:2] if len(segments) >= 2 else segments[:1]
    if len(repo) == 1 and kind != "models":
        raise InvalidTarget(msg("{given}: {kind} need owner/name", given=repr(raw), kind=kind))
    for segment in repo:
        if not _SEGMENT_RE.match(segment) or ".." in segment:
            raise InvalidTarget(
                msg("{given}: {name} is not a valid Hub name", given=repr(raw), name=repr(segment))
            )
    prefix = "" if kind == "models" else f"{kind}/"
    return TargetRef("hf", prefix + "/".join(repo))


def _github_path(path: str, raw: str) -> TargetRef:
    segments = [s for s in path.strip().strip("/").split("/") if s]
    if segments and segments[0] in ("org", "orgs"):  # github:org/<owner>, github.com/orgs/<owner>
        return TargetRef(GITHUB_ORG, _owner(segments[1:], raw, "github:org/<owner>"))
    if len(segments) < 2:
        raise InvalidTarget(msg("{given}: expected github:owner/repo", given=repr(raw)))
    owner, repo = segments[0], segments[1].removesuffix(".git")
    for segment in (owner, repo):
        if not _SEGMENT_RE.match(segment):
            raise InvalidTarget(
                msg(
                    "{given}: {name} is not a valid GitHub name",
                    given=repr(raw),
                    name=repr(segment),
                )
            )
    return TargetRef("github", f"{owner}/{repo}")


def _owner(segments: list[str], raw: str, form: str) -> str:
    """The one account name of a whole-organisation watch."""
    if len(segments) != 1 or not _SEGMENT_RE.match(segments[0]) or ".." in segments[0]:
        raise InvalidTarget(
            msg(
                "{given}: expected {form} (one organisation or user name)",
                given=repr(raw),
                form=form,
            )
        )
    return segments[0]


def _web_url(url: str, raw: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidTarget(
            msg("{given}: only http:// and https:// URLs can be watched", given=repr(raw))
        )
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


def hf_repo(ref: TargetRef) -> tuple[str, str]:
    """Split an ``hf`` locator into (repo type, repo id): ``("dataset", "org/x")``."""
    head, _, rest = ref.locator.partition("/")
    if head in ("datasets", "spaces") and rest:
        return head[:-1], rest
    return "model", ref.locator


def parse_channel(text: str) -> ChannelAddress:
    """Parse ``console``, ``slack:C0123ABCD``, ``slack:T0123/C0456`` (a channel of one of many
    workspaces), ``webhook:https://...`` and the like."""
    raw = text.strip()
    if raw == "console":
        return ChannelAddress("console")
    platform, sep, address = raw.partition(":")
    platform = platform.lower()
    if not sep or platform not in CHANNEL_PLATFORMS or platform == "console":
        raise InvalidTarget(
            msg(
                "unknown channel {given}: use console, slack:<channel id>, discord:<channel id>, "
                "slack-webhook:<url>, discord-webhook:<url> or webhook:<url>",
                given=repr(raw),
            )
        )
    address = address.strip()
    if not address:
        raise InvalidTarget(
            msg(
                "channel {given} has no address after '{platform}:'",
                given=repr(raw),
                platform=platform,
            )
        )
    if platform.endswith("webhook") and not address.lower().startswith(("http://", "https://")):
        raise InvalidTarget(msg("channel {platform}: needs an http(s) URL", platform=platform))
    if platform == "slack" and not SLACK_CHANNEL.fullmatch(address):
        raise InvalidTarget(
            msg(
                "slack: needs a channel id like C0123ABCD (one workspace) or T0123ABCD/C0123ABCD "
                "(its workspace's team id, then the channel id); got {given}",
                given=repr(address),
            )
        )
    if platform == "discord" and not re.fullmatch(r"\d{17,20}", address):
        raise InvalidTarget(
            msg(
                "discord: needs a channel id (17-20 digits; Developer Mode → right-click the "
                "channel → Copy Channel ID)"
            )
        )
    if platform == "discord-webhook" and not DISCORD_WEBHOOK_URL.match(address):
        raise InvalidTarget(
            msg(
                "discord-webhook: needs the URL Discord shows for a channel webhook, "
                "https://discord.com/api/webhooks/<id>/<token>"
            )
        )
    return ChannelAddress(platform, address)
