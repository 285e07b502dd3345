"""Logging: one line per event on standard error, secrets redacted by the formatter itself.

Redaction lives in the formatter, not at call sites, so a token that slips into an exception
message or a library's log line is still never written (design invariant 7).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

# Shapes of credentials that must never be logged even if nobody told us the exact value.
_PATTERNS = [
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{8,}"),  # Slack bot/user tokens
    re.compile(r"xapp-[A-Za-z0-9-]{8,}"),  # Slack app-level tokens
    re.compile(r"\bhf_[A-Za-z0-9]{10,}"),  # Hugging Face tokens
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"(hooks\.slack\.com/(?:services|commands|workflows)/)[^\s'\"<>]+"),
    re.compile(r"(/api(?:/v\d+)?/webhooks/\d+/)[^\s'\"<>?]+"),  # Discord webhook tokens
    re.compile(r"((?:slack-webhook|discord-webhook|webhook):https?://[^/\s]+/)[^\s'\"<>]+"),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE),
    # Webhook-shaped paths on any host (a self-hosted relay, a Slack-compatible service).
    re.compile(
        r"(https?://[^/\s'\"<>]+/(?:[^\s'\"<>/]+/)*?(?:hooks|services|webhooks?)/)[^\s'\"<>]+"
    ),
]
# Secrets learnt while running (webhook URLs of channels): every formatter redacts them.
_RUNTIME: set[str] = set()


def register_secret(value: str) -> None:
    """Never log ``value`` (from now on, in every handler set up by :func:`setup_logging`)."""
    if len(value) >= 8:
        _RUNTIME.add(value)


def register_secret_url(url: str) -> None:
    """A webhook URL's path and query are its credential: register them (the host is fine)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        register_secret(url.strip())
        return
    path = parts.path.strip("/")
    register_secret(path)
    register_secret(parts.query)
    if len(path) < 8 and len(parts.query) < 8:  # too short to redact alone: the whole URL
        register_secret(url.strip())


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in sorted({*self.secrets, *_RUNTIME}, key=len, reverse=True):
            text = text.replace(secret, "<redacted>")
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "<redacted>", text)
        return text


class RedactingFormatter(logging.Formatter):
    def __init__(self, redact: Redactor, as_json: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        if self.as_json:
            data = {
                "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "msg": record.getMessage(),
            }
            if record.exc_info:
                data["exc"] = self.formatException(record.exc_info)
            return self.redact(json.dumps(data, ensure_ascii=False))
        return self.redact(super().format(record))


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(Redactor(secrets), fmt == "json"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that log every request or job run at INFO would drown our one-line events.
    for noisy in (
        "httpx",
        "httpx2",
        "apscheduler",
        "huggingface_hub",
        "slack_bolt",
        "slack_sdk",
        "discord",
        "aiohttp.access",
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
