"""Every setting is reached by the environment variable the docs name, and by nothing else.

The names come from the model's own metadata (:func:`bot.config.env_name`), so a field added
later is covered without touching this file; ``.env.example`` and the docs are checked against
the same names, both ways.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import ENV_PREFIX, Settings, env_name, load_settings
from bot.domain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
FIELDS = sorted(Settings.model_fields)
# Names that look like settings but configure the test suite, not the bot.
NOT_SETTINGS = {"POLICYBOT_TEST_CORPUS", "POLICYBOT_TEST_PG_URL"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yml", ".html", ".txt"}

# A value each field accepts that differs from its default, as written in the environment,
# and what the field holds afterwards. Fields whose type says enough are derived below.
SPECIAL: dict[str, tuple[str, object]] = {
    "hf_endpoint": ("http://hub.example/", "http://hub.example"),
    "github_api_url": ("http://gh.example/", "http://gh.example"),
    "discord_api_url": ("http://discord.example/api/", "http://discord.example/api"),
    "slack_command": ("/watchdog", "/watchdog"),
    "slack_http_path": ("/hooks/slack", "/hooks/slack"),
    "slack_watch_permission": ("U0123ABCD, Admins", "U0123ABCD,admins"),
    "public_url": ("https://bot.example/", "https://bot.example"),
    "private_url_allowlist": ("10.8.0.0/16", "10.8.0.0/16"),
    "log_format": ("json", "json"),
    "http_port": ("8081", 8081),
    "discord_dev_guild_id": ("1122334455", 1122334455),
    "slack_http_port": ("3001", 3001),
    "parse_processes": ("3", 3),
}


def _sample(field: str) -> tuple[str, object]:
    if field in SPECIAL:
        return SPECIAL[field]
    info = Settings.model_fields[field]
    default = info.get_default(call_default_factory=True)
    annotation = str(info.annotation)
    if "SecretStr" in annotation:
        return "s3cret-value", "s3cret-value"
    if isinstance(default, bool):
        return str(not default).lower(), not default
    if isinstance(default, int):
        return str(default + 1), default + 1
    if isinstance(default, float):
        return str(default + 1.5), default + 1.5
    return "some-value", "some-value"


def _plain(value: Any) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No settings from the machine running the tests, and no .env but the test's own."""
    for field in FIELDS:
        monkeypatch.delenv(env_name(field), raising=False)
        monkeypatch.delenv(field.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("field", FIELDS)
def test_each_setting_arrives_from_its_documented_variable(
    field: str, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, expected = _sample(field)
    assert _plain(getattr(load_settings(), field)) != expected, "the sample is not the default"
    monkeypatch.setenv(env_name(field), raw)
    assert _plain(getattr(load_settings(), field)) == expected


@pytest.mark.parametrize("field", FIELDS)
def test_each_setting_arrives_from_its_line_in_dotenv(field: str, clean_env: Path) -> None:
    raw, expected = _sample(field)
    (clean_env / ".env").write_text(f"{env_name(field)}={raw}\n", encoding="utf-8")
    assert _plain(getattr(load_settings(), field)) == expected


@pytest.mark.parametrize("field", FIELDS)
def test_a_bare_field_name_or_a_prefixed_vendor_name_is_not_read(
    field: str, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``DATABASE_URL`` (another tool's) or ``POLICYBOT_HF_TOKEN`` (a guess) never configures
    policybot, from the environment or from a shared .env file."""
    raw, _expected = _sample(field)
    other = field.upper() if env_name(field).startswith(ENV_PREFIX) else ENV_PREFIX + field.upper()
    default = _plain(getattr(load_settings(), field))
    monkeypatch.setenv(other, raw)
    assert _plain(getattr(load_settings(), field)) == default
    monkeypatch.delenv(other)
    (clean_env / ".env").write_text(f"{other}={raw}\n", encoding="utf-8")
    assert _plain(getattr(load_settings(), field)) == default


def test_names_are_case_insensitive_and_blank_means_unset(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("policybot_concurrency", "7")
    monkeypatch.setenv("hf_token", "tok")
    (clean_env / ".env").write_text("POLICYBOT_HTTP_PORT=\nSLACK_CLIENT_ID=\n", encoding="utf-8")
    settings = load_settings()
    assert settings.concurrency == 7 and _plain(settings.hf_token) == "tok"
    assert settings.http_port is None and settings.slack_client_id is None


def test_unknown_names_in_dotenv_are_ignored_and_the_environment_wins(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text(
        "POLICYBOT_NOT_A_SETTING=1\nSOMETHING_ELSE=2\nPOLICYBOT_CONCURRENCY=4\n", encoding="utf-8"
    )
    assert load_settings().concurrency == 4
    monkeypatch.setenv("POLICYBOT_CONCURRENCY", "3")
    assert load_settings().concurrency == 3


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("POLICYBOT_HTTP_PORT", "eighty"),
        ("POLICYBOT_LOG_FORMAT", "xml"),
        ("DISCORD_DEV_GUILD_ID", "guild"),
    ],
)
def test_an_invalid_value_is_reported_under_its_variable_name(
    variable: str, value: str, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"^invalid configuration: {variable}: "):
        load_settings()


def test_overrides_in_code_use_field_names() -> None:
    settings = load_settings(hf_token="t", database_url="sqlite:///x.db", discord_dev_guild_id=5)
    assert _plain(settings.hf_token) == "t" and settings.database_url == "sqlite:///x.db"
    assert settings.discord_dev_guild_id == 5
    with pytest.raises(ConfigError, match=r"^invalid configuration: http_port: "):
        load_settings(http_port="eighty")


def test_env_example_names_exactly_the_variables_the_settings_read() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
    assert documented == {env_name(f) for f in FIELDS}


def test_every_policybot_variable_the_docs_or_code_name_is_a_setting() -> None:
    """A name in a message, a doc or a benchmark's environment that nothing reads would send
    people (or the benchmark) after a knob that does not exist."""
    texts = [ROOT / "README.md", ROOT / "Dockerfile", *sorted((ROOT / "docs").iterdir())]
    for folder in ("bot", "adapters", "bench", "examples"):
        texts += [p for p in sorted((ROOT / folder).rglob("*.*")) if p.suffix in TEXT_SUFFIXES]
    texts.remove(ROOT / "bot" / "config.py")  # its comments name examples of wrong names
    named: dict[str, Path] = {}
    for path in texts:
        for name in re.findall(r"\bPOLICYBOT_[A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8")):
            named.setdefault(name, path)
    unknown = {n: str(p.relative_to(ROOT)) for n, p in named.items() if n not in NOT_SETTINGS}
    assert {n: p for n, p in unknown.items() if n not in {env_name(f) for f in FIELDS}} == {}
