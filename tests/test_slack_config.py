"""Slack settings read what docs/slack.md promises, and the app manifest matches the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.slack_commands import WatchPermission
from bot.config import load_settings
from bot.domain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("anyone", WatchPermission(True, False, frozenset())),
        (" Admins ", WatchPermission(False, True, frozenset())),
        (
            "U0123ABCD, W0456EFGH",
            WatchPermission(False, False, frozenset({"U0123ABCD", "W0456EFGH"})),
        ),
        ("admins,U0123ABCD", WatchPermission(False, True, frozenset({"U0123ABCD"}))),
    ],
)
def test_watch_permission_values(value: str, expected: WatchPermission) -> None:
    settings = load_settings(slack_watch_permission=value)
    assert WatchPermission.parse(settings.slack_watch_permission) == expected


@pytest.mark.parametrize(
    "value, problem",
    [
        ("everyone", "'everyone' is not a Slack user id"),
        ("anyone,U0123ABCD", "'anyone' cannot be combined"),
        ("@alice", "'@alice' is not a Slack user id"),
        (" , ", "must be 'anyone', 'admins' or a comma-separated list"),
    ],
)
def test_a_bad_permission_is_a_clear_config_error(value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match="slack_watch_permission") as err:
        load_settings(slack_watch_permission=value)
    assert problem in str(err.value)


def test_the_manifest_declares_what_the_adapter_uses() -> None:
    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load((ROOT / "docs" / "slack-app-manifest.yml").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == load_settings().slack_command == "/policy"
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "chat:write.public", "users:read"} <= scopes
