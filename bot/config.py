"""Every setting, read from the environment (and ``.env``), with a default.

Vendor-standard names (``HF_ENDPOINT``, ``GITHUB_TOKEN``, ``SLACK_BOT_TOKEN`` ...) are kept so
existing setups work; policybot's own knobs share the ``POLICYBOT_`` prefix. Every limit is a
setting (design invariant 6).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        "sqlite:///policybot.db", validation_alias=_env("POLICYBOT_DATABASE_URL")
    )
    default_channel: str = Field("console", validation_alias=_env("POLICYBOT_DEFAULT_CHANNEL"))
    watchlist: str | None = Field(None, validation_alias=_env("POLICYBOT_WATCHLIST"))

    hf_endpoint: str = Field("https://huggingface.co", validation_alias=_env("HF_ENDPOINT"))
    hf_token: SecretStr | None = Field(None, validation_alias=_env("HF_TOKEN"))
    github_api_url: str = Field(
        "https://api.github.com", validation_alias=_env("POLICYBOT_GITHUB_API_URL")
    )
    github_token: SecretStr | None = Field(None, validation_alias=_env("GITHUB_TOKEN"))

    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", validation_alias=_env("POLICYBOT_SLACK_API_URL")
    )
    discord_bot_token: SecretStr | None = Field(None, validation_alias=_env("DISCORD_BOT_TOKEN"))
    discord_api_url: str = Field(
        "https://discord.com/api/v10", validation_alias=_env("POLICYBOT_DISCORD_API_URL")
    )
    discord_dev_guild_id: int | None = Field(
        None,
        validation_alias=_env("DISCORD_DEV_GUILD_ID"),
        description="sync /policy to this one guild only (instant; for development)",
    )
    discord_manage_permission: str = Field(
        "manage_channels",
        validation_alias=_env("POLICYBOT_DISCORD_MANAGE_PERMISSION"),
        description="Discord permission (discord.py flag name) needed to change watches; "
        "'none' lets everyone who can use /policy change them",
    )
    discord_max_ratelimit_wait: float = Field(
        5.0,
        gt=0,
        validation_alias=_env("POLICYBOT_DISCORD_MAX_RATELIMIT_WAIT"),
        description="a Discord 429 asking to wait longer than this (seconds) goes back to the "
        "outbox with its retry_after instead of waiting in place",
    )

    allow_private_urls: bool = Field(False, validation_alias=_env("POLICYBOT_ALLOW_PRIVATE_URLS"))

    check_interval: float = Field(
        3600.0,
        gt=0,
        validation_alias=_env("POLICYBOT_CHECK_INTERVAL"),
        description="seconds between two checks of one target",
    )
    check_jitter: float = Field(
        300.0,
        ge=0,
        validation_alias=_env("POLICYBOT_CHECK_JITTER"),
        description="up to this many seconds are added at random to each next check",
    )
    tick_seconds: float = Field(
        15.0,
        gt=0,
        validation_alias=_env("POLICYBOT_TICK_SECONDS"),
        description="how often the scheduler looks for due targets and pending deliveries",
    )
    max_backoff: float = Field(
        6 * 3600.0,
        gt=0,
        validation_alias=_env("POLICYBOT_MAX_BACKOFF"),
        description="cap of the exponential backoff of a failing target (seconds)",
    )
    retry_base: float = Field(
        60.0,
        gt=0,
        validation_alias=_env("POLICYBOT_RETRY_BASE"),
        description="first retry delay of a failing target; doubles per failure",
    )
    claim_batch: int = Field(500, gt=0, validation_alias=_env("POLICYBOT_CLAIM_BATCH"))
    lease_seconds: float = Field(300.0, gt=0, validation_alias=_env("POLICYBOT_LEASE_SECONDS"))
    concurrency: int = Field(
        20,
        gt=0,
        validation_alias=_env("POLICYBOT_CONCURRENCY"),
        description="checks in flight at once, all sources together",
    )
    hub_concurrency: int = Field(8, gt=0, validation_alias=_env("POLICYBOT_HUB_CONCURRENCY"))
    hub_timeout: float = Field(15.0, gt=0, validation_alias=_env("POLICYBOT_HUB_TIMEOUT"))
    gone_confirmations: int = Field(
        2,
        ge=1,
        validation_alias=_env("POLICYBOT_GONE_CONFIRMATIONS"),
        description="consecutive 401/404 answers before a target counts as deleted/private",
    )
    health_after_failures: int = Field(
        3,
        ge=1,
        validation_alias=_env("POLICYBOT_HEALTH_AFTER_FAILURES"),
        description="failed checks in a row before the channel hears that a watch is failing",
    )
    delivery_max_attempts: int = Field(
        20, ge=1, validation_alias=_env("POLICYBOT_DELIVERY_MAX_ATTEMPTS")
    )
    delivery_timeout: float = Field(20.0, gt=0, validation_alias=_env("POLICYBOT_DELIVERY_TIMEOUT"))

    log_level: str = Field("INFO", validation_alias=_env("POLICYBOT_LOG_LEVEL"))
    log_format: str = Field("text", validation_alias=_env("POLICYBOT_LOG_FORMAT"))

    @field_validator("hf_endpoint", "github_api_url", "discord_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("discord_dev_guild_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError("must be 'text' or 'json'")
        return value

    def secrets(self) -> list[str]:
        """Every configured secret value, for the log redactor."""
        values = [
            self.hf_token,
            self.github_token,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.discord_bot_token,
        ]
        return [v.get_secret_value() for v in values if v and v.get_secret_value()]


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's validation error into one readable ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        problems = []
        for err in e.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
