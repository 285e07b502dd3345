"""Pure pieces, table-driven: references, the command grammar, detection, rendering, schedule,
settings and log redaction."""

from __future__ import annotations

import io
import logging
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Unpack

import pytest

from bot.alerts.compose import alert_for, cap_lines
from bot.check.schedule import next_check_after_failure, next_check_after_success
from bot.commands import grammar as cmds
from bot.config import Settings
from bot.detect.repo import detect_repo
from bot.domain.errors import InvalidTarget, UsageError
from bot.domain.facts import RepoFacts
from bot.domain.model import Alert, ChangeKind, Severity
from bot.domain.refs import parse_channel, parse_target
from bot.logs import RedactingFormatter, Redactor

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hf:meta-llama/Llama-2-7b-hf", "hf:meta-llama/Llama-2-7b-hf"),
        ("https://huggingface.co/meta-llama/Llama-2-7b-hf", "hf:meta-llama/Llama-2-7b-hf"),
        (
            "huggingface.co/meta-llama/Llama-2-7b-hf/blob/main/LICENSE.txt",
            "hf:meta-llama/Llama-2-7b-hf",
        ),
        ("https://hf.co/datasets/HuggingFaceFW/fineweb?row=3", "hf:datasets/HuggingFaceFW/fineweb"),
        ("hf:models/bigscience/bloom", "hf:bigscience/bloom"),
        ("hf:spaces/acme/demo", "hf:spaces/acme/demo"),
        (
            "https://github.com/huggingface/text-generation-inference/tree/main",
            "github:huggingface/text-generation-inference",
        ),
        ("page:https://www.docker.com/pricing/", "page:https://www.docker.com/pricing/"),
        ("https://Example.com/blog/feed.xml", "url:https://example.com/blog/feed.xml"),
    ],
)
def test_references_are_normalised(text: str, expected: str) -> None:
    assert str(parse_target(text)) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "missing target"),
        ("llama", "cannot read 'llama' as a target"),
        ("hf:acme/x/y", "not a repository path"),
        ("hf:datasets/only-one", "datasets need owner/name"),
        ("hf:acme/x y", "not a valid Hub name"),
        ("page:ftp://example.com/x", "only http:// and https://"),
    ],
)
def test_bad_references_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidTarget, match=re.escape(message)):
        parse_target(text)


def test_mirror_hosts_are_read_like_huggingface() -> None:
    ref = parse_target("http://127.0.0.1:8080/acme/x", hub_hosts=frozenset({"127.0.0.1:8080"}))
    assert str(ref) == "hf:acme/x"


@pytest.mark.parametrize(
    "text, ok",
    [
        ("console", True),
        ("slack:C0123ABCD", True),
        ("discord:112233445566778899", True),
        ("discord:1122", False),
        ("webhook:https://x.example/h", True),
        ("slack", False),
        ("teams:x", False),
        ("slack-webhook:not-a-url", False),
    ],
)
def test_channel_addresses(text: str, ok: bool) -> None:
    if ok:
        assert str(parse_channel(text)) == text
    else:
        with pytest.raises(InvalidTarget):
            parse_channel(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "watch hf:a/b hf:c/d --min-severity warning",
            cmds.Watch(
                ("hf:a/b", "hf:c/d"), min_severity=Severity.WARNING, min_severity_given=True
            ),
        ),
        (
            "watch page:https://x.io --select 'main .pricing' --ignore '\\d+ min' --ignore x",
            cmds.Watch(("page:https://x.io",), select="main .pricing", ignore=("\\d+ min", "x")),
        ),
        ("unwatch #4", cmds.Unwatch("#4")),
        ("list", cmds.ListWatches()),
        ("history", cmds.History()),
        ("history hf:a/b --limit 3", cmds.History("hf:a/b", 3)),
        ("diff hf:a/b", cmds.Diff("hf:a/b")),
        ("check", cmds.Check()),
        ("mute hf:a/b 12h", cmds.Mute("hf:a/b", 0.5)),
        ("", cmds.Help()),
        ("HELP watch", cmds.Help("watch")),
    ],
)
def test_command_grammar(text: str, expected: cmds.Command) -> None:
    assert cmds.parse(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("wach hf:a/b", "unknown command 'wach' (did you mean 'watch'?)"),
        ("watch hf:a/b --selct x", "unknown option '--selct' (did you mean '--select'?)"),
        ("watch hf:a/b --to slack:C1", "unknown option '--to'"),
        ("watch hf:a/b --min-severity", "option --min-severity needs a value"),
        ("watch hf:a/b --min-severity loud", "unknown severity 'loud'"),
        ("watch page:https://x --ignore '('", "is not a valid regex"),
        ("unwatch", "give exactly one target"),
        ("history --limit 0", "--limit must be a number from 1 to 100"),
        ("mute hf:a/b forever", "'forever' is not a duration"),
        ('watch "hf:a/b', "check your quotes"),
    ],
)
def test_mistyped_commands_name_the_mistake(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        cmds.parse(text)


def test_the_cli_may_name_another_channel() -> None:
    assert cmds.parse("watch hf:a/b --to slack:C1", allow_to=True) == cmds.Watch(
        ("hf:a/b",), to="slack:C1"
    )


def _facts(licence_id: str, **extra: Unpack[RepoFacts]) -> RepoFacts:
    facts: RepoFacts = {
        "exists": True,
        "id": "a/b",
        "licence": {"ids": [licence_id], "name": None},
        "gated": False,
        "private": False,
        "disabled": False,
    }
    facts.update(extra)
    return facts


@pytest.mark.parametrize(
    "before, after, expected",
    [
        (_facts("mit"), _facts("mit"), []),
        (_facts("mit"), _facts("MIT"), []),
        (_facts("apache-2.0"), _facts("cc-by-nc-4.0"), [(ChangeKind.LICENCE, Severity.CRITICAL)]),
        (_facts("cc-by-nc-4.0"), _facts("apache-2.0"), [(ChangeKind.LICENCE, Severity.NOTICE)]),
        (_facts("mit"), _facts("mit", gated="auto"), [(ChangeKind.ACCESS, Severity.WARNING)]),
        (
            _facts("mit", gated="auto"),
            _facts("mit", gated="manual"),
            [(ChangeKind.ACCESS, Severity.NOTICE)],
        ),
        (
            _facts("mit"),
            {**_facts("mit"), "exists": False},
            [(ChangeKind.ACCESS, Severity.CRITICAL)],
        ),
        (_facts("mit"), _facts("mit", id="b/c"), [(ChangeKind.ACCESS, Severity.NOTICE)]),
        (
            {"exists": True, "disabled": True},
            _facts("gpl-3.0"),
            [(ChangeKind.ACCESS, Severity.NOTICE)],
        ),
    ],
    ids=[
        "nothing changes",
        "case of the id",
        "to non-commercial",
        "back to permissive",
        "becomes gated",
        "gate mode changes",
        "gone",
        "moved",
        "restored, licence unknown while disabled is not compared",
    ],
)
def test_detect_repo(
    before: RepoFacts, after: RepoFacts, expected: list[tuple[ChangeKind, Severity]]
) -> None:
    assert [(c.kind, c.severity) for c in detect_repo(before, after)] == expected


def test_alert_has_one_title_and_actions_and_survives_json() -> None:
    changes = detect_repo(
        _facts("apache-2.0"),
        _facts("other", gated="manual") | {"licence": {"ids": ["other"], "name": "hfoil-1.0"}},
    )
    alert = alert_for("hf:a/b", "Hugging Face model", changes, detected_at=NOW)
    assert alert.title == "Licence and access changed — a/b"
    assert alert.severity is Severity.CRITICAL
    assert [a.kind for a in alert.actions] == ["unwatch", "mute", "diff"]
    assert Alert.from_json(alert.to_json()) == alert


def test_excerpt_is_cut_at_a_line_boundary_with_a_count() -> None:
    text = "\n".join(f"line {i}" for i in range(100))
    assert cap_lines(text, 30).splitlines()[-1] == "… 70 more lines"
    assert cap_lines("short", 30) == "short"


def test_schedule_spreads_and_backs_off() -> None:
    rng = random.Random(1)
    nxt = next_check_after_success(NOW, 3600, 300, rng)
    assert NOW + timedelta(seconds=3600) <= nxt <= NOW + timedelta(seconds=3900)
    delays = [
        (next_check_after_failure(NOW, n, base=60, max_backoff=3600, rng=rng) - NOW).total_seconds()
        for n in (1, 2, 3, 10)
    ]
    assert 60 <= delays[0] <= 66 and 120 <= delays[1] <= 132 and 240 <= delays[2] <= 264
    assert 3600 <= delays[3] <= 3960, "capped"
    waited = next_check_after_failure(NOW, 1, base=60, max_backoff=3600, retry_after=900, rng=rng)
    assert waited - NOW >= timedelta(seconds=900), "Retry-After is honoured"


@pytest.mark.parametrize(
    "secret",
    [
        "xoxb-1234567890-abcdefghij",
        "xapp-1-A0123-4567-abcdef",
        "hf_abcdefghijklmnopqrstuv",
        "ghp_abcdefghijklmnopqrstuvwxyz0123",
        "https://hooks.slack.com/services/T0/B0/XYZsecret",
        "https://discord.com/api/webhooks/123456789012345678/tok-en_value",
    ],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["text logs", "json logs"])
def test_log_lines_never_carry_tokens_or_webhook_urls(secret: str, as_json: bool) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(Redactor(), as_json=as_json))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        logger.error("delivery failed to %s", secret)
        try:
            raise RuntimeError(f"boom {secret}")
        except RuntimeError:
            logger.exception("crash")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    tail = secret.split("/")[-1] if "/" in secret else secret
    assert tail not in out and "<redacted>" in out


def test_configured_secrets_are_redacted_whatever_their_shape() -> None:
    redact = Redactor(["s3cr3t-signing-value"])
    assert redact("sig=s3cr3t-signing-value") == "sig=<redacted>"


def test_every_configured_secret_reaches_the_redactor() -> None:
    settings = Settings(
        hf_token="hf-plain",
        github_token="gh-plain",
        slack_bot_token="bot-plain",
        slack_app_token="app-plain",
        slack_signing_secret="sign-plain",
        discord_bot_token="discord-plain",
    )
    assert set(settings.secrets()) >= {
        "hf-plain",
        "gh-plain",
        "bot-plain",
        "app-plain",
        "sign-plain",
        "discord-plain",
    }


def test_a_copied_env_example_is_a_valid_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.database_url == "sqlite:///policybot.db"
    # A blank VAR= means unset: no empty token switches anything on.
    assert settings.http_port is None and settings.hf_token is None
