"""Every setting, read from the environment (and ``.env``), with a default.

Vendor-standard names (``HF_ENDPOINT``, ``GITHUB_TOKEN``, ``SLACK_BOT_TOKEN`` ...) are kept so
existing setups work; policybot's own knobs share the ``POLICYBOT_`` prefix. Every limit is a
setting (design invariant 6).
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.errors import ConfigError

ENV_PREFIX = "POLICYBOT_"


class Settings(BaseSettings):
    """Field ``x`` reads ``POLICYBOT_X``; a field with a ``validation_alias`` reads that
    vendor-standard name instead (and never ``POLICYBOT_`` + it). :func:`env_name` says which."""

    # ``VAR=`` (every line of a copied .env.example that the user has not filled in) means
    # unset: the default applies, a blank token does not turn its adapter on. Only the names
    # the fields read count: a .env shared with other tools (``DATABASE_URL=``, or a
    # ``POLICYBOT_`` name this version does not know) is ignored, never an error.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        dotenv_filtering="only_existing",
        env_ignore_empty=True,
        # No populate_by_name: it would make POLICYBOT_HF_TOKEN a second name for HF_TOKEN.
        # Overrides in code still use field names (load_settings(hf_token=...)): they match
        # the vendor names case-insensitively.
    )

    database_url: str = "sqlite:///policybot.db"
    default_channel: str = "console"
    watchlist: str | None = None
    # The language of alerts where neither the channel's workspace nor its platform says one
    # (issue 16): "en" or "it"; an unknown one falls back to English.
    default_language: str = "en"

    hf_endpoint: str = Field("https://huggingface.co", validation_alias="HF_ENDPOINT")
    hf_token: SecretStr | None = Field(None, validation_alias="HF_TOKEN")
    github_api_url: str = "https://api.github.com"
    github_token: SecretStr | None = Field(None, validation_alias="GITHUB_TOKEN")

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = "https://slack.com/api/"
    # -- Slack (issue 3) ----------------------------------------------------------------------
    slack_command: str = Field(
        "/policy",
        pattern=r"^/[a-z0-9_-]{1,31}$",
        description="the slash command registered in the Slack app (see the app manifest)",
    )
    slack_http_host: str = Field(
        "0.0.0.0",
        description="HTTP mode (no SLACK_APP_TOKEN): address the request endpoint listens on",
    )
    slack_http_port: int = Field(
        3000,
        ge=0,
        le=65535,
        description="HTTP mode: port of the endpoint Slack posts commands and clicks to",
    )
    slack_http_path: str = Field(
        "/slack/events",
        pattern=r"^/",
        description="HTTP mode: path of that endpoint (the app's Request URL ends with it)",
    )
    slack_watch_permission: str = Field(
        "anyone",
        description="who may watch/unwatch/mute from Slack: anyone, admins (workspace admins "
        "and owners), or a comma-separated list of user ids (may include 'admins')",
    )
    slack_role_cache_seconds: float = Field(
        300.0,
        ge=0,
        description="how long a users.info admin lookup is reused",
    )
    slack_min_interval: float = Field(
        1.0,
        ge=0,
        description="seconds between two posts to one Slack channel (Slack allows about 1/s)",
    )
    # -- many workspaces (issue 16) -----------------------------------------------------------
    slack_client_id: str | None = Field(
        None,
        validation_alias="SLACK_CLIENT_ID",
        description="turns on installs into any workspace (Slack's OAuth v2 flow): the app's "
        "Client ID (Basic Information → App Credentials)",
    )
    slack_client_secret: SecretStr | None = Field(
        None, validation_alias="SLACK_CLIENT_SECRET", description="the app's Client Secret"
    )
    public_url: str | None = Field(
        None,
        description="the address people and Slack reach the POLICYBOT_HTTP_PORT server at "
        "(https://policybot.example.com): Slack's install redirect and the alerts' evidence "
        "links are built from it",
    )
    slack_authorize_url: str = Field(
        "https://slack.com/oauth/v2/authorize",
        description="where the Add to Slack button sends people (tests point it at a fake)",
    )
    discord_bot_token: SecretStr | None = Field(None, validation_alias="DISCORD_BOT_TOKEN")
    discord_api_url: str = "https://discord.com/api/v10"
    discord_dev_guild_id: int | None = Field(
        None,
        validation_alias="DISCORD_DEV_GUILD_ID",
        description="sync /policy to this one guild only (instant; for development)",
    )
    discord_manage_permission: str = Field(
        "manage_channels",
        description="Discord permission (discord.py flag name) needed to change watches; "
        "'none' lets everyone who can use /policy change them",
    )
    discord_max_ratelimit_wait: float = Field(
        5.0,
        gt=0,
        description="a Discord 429 asking to wait longer than this (seconds) goes back to the "
        "outbox with its retry_after instead of waiting in place",
    )

    allow_private_urls: bool = False
    private_url_allowlist: str = Field(
        "",
        description="comma-separated addresses or networks (10.1.2.3, 10.8.0.0/16) that "
        "user-supplied URLs may reach although the SSRF guard refuses non-global addresses; "
        "narrower than POLICYBOT_ALLOW_PRIVATE_URLS, which lifts the guard entirely",
    )
    http_connect_timeout: float = Field(
        10.0,
        gt=0,
        description="seconds to open a connection to a page, feed or GitHub",
    )
    http_read_timeout: float = Field(
        20.0,
        gt=0,
        description="seconds to wait for the next bytes of a response",
    )
    http_total_timeout: float = Field(
        45.0,
        gt=0,
        description="seconds for a whole request, redirects and body included (stops slow-loris)",
    )
    http_max_bytes: int = Field(
        5 * 1024 * 1024,
        gt=0,
        description="cap on the decoded body of one response (a gzip bomb stops here)",
    )
    http_max_redirects: int = Field(5, ge=0)
    http_per_host: int = Field(
        4,
        gt=0,
        description="connections in flight to one host at once",
    )
    github_concurrency: int = Field(
        2,
        gt=0,
        description="GitHub API requests in flight at once (GitHub asks for serial requests)",
    )

    check_interval: float = Field(
        3600.0,
        gt=0,
        description="seconds between two checks of one target",
    )
    check_jitter: float = Field(
        300.0,
        ge=0,
        description="up to this many seconds are added at random to each next check",
    )
    tick_seconds: float = Field(
        15.0,
        gt=0,
        description="how often the scheduler looks for due targets and pending deliveries",
    )
    max_backoff: float = Field(
        6 * 3600.0,
        gt=0,
        description="cap of the exponential backoff of a failing target (seconds)",
    )
    retry_base: float = Field(
        60.0,
        gt=0,
        description="first retry delay of a failing target; doubles per failure",
    )
    claim_batch: int = Field(500, gt=0)
    lease_seconds: float = Field(300.0, gt=0)
    delivery_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="how long a replica may hold a delivery it is sending before another may "
        "retry it; short, so a retry after a crash falls inside Discord's nonce window",
    )
    heartbeat_seconds: float = Field(
        30.0,
        gt=0,
        description="a running process renews its heartbeat every third of this; once it "
        "has not for this long, other replicas take its leased work back",
    )
    concurrency: int = Field(
        64,
        gt=0,
        description="checks in flight at once, all sources together (each holds at most one "
        "body, POLICYBOT_HTTP_MAX_BYTES; politeness to one host is POLICYBOT_HTTP_PER_HOST)",
    )
    hub_concurrency: int = Field(8, gt=0)
    hub_timeout: float = Field(15.0, gt=0)
    gone_confirmations: int = Field(
        2,
        ge=1,
        description="consecutive 401/404 answers before a target counts as deleted/private",
    )
    health_after_failures: int = Field(
        3,
        ge=1,
        description="failed checks in a row before the channel hears that a watch is failing",
    )
    feed_group_over: int = Field(
        5,
        ge=1,
        description="more new feed entries than this at once come as one grouped alert",
    )
    feed_max_entries: int = Field(
        100,
        ge=1,
        description="newest entries of a feed kept in each snapshot (and announced)",
    )
    feed_remember: int = Field(
        1000,
        ge=1,
        description="entry ids remembered per feed, so entries that come back are not new",
    )
    feed_max_bytes: int = Field(
        5 * 1024 * 1024,
        gt=0,
        description="largest feed body read (decoded bytes); a larger one is a failed check",
    )
    feed_parse_max_entries: int = Field(
        2000,
        ge=1,
        description="entries of one feed body read per check (the newest); a feed listing "
        "more is still checked, and says it was cut (bounds one check's CPU and memory)",
    )
    parse_concurrency: int = Field(
        2,
        ge=1,
        description="page and feed bodies parsed at once in threads (a 5 MB feed "
        "costs seconds of CPU and ~150 MB while it is parsed); worker processes parse one "
        "each, with a few more queued",
    )
    parse_processes: int = Field(
        default_factory=lambda: _default_parse_processes(),
        ge=0,
        description="worker processes that parse page and feed bodies (started on the first "
        "parse); 0 parses in threads of the bot's own process. Default: the CPU count, at "
        "most 4, or 0 on one CPU",
    )
    diff_max_lines: int = Field(
        1000,
        ge=1,
        description="lines per side of a changed region of a page diffed line by line; a "
        "larger change is told by counts of the lines added and removed",
    )
    org_group_over: int = Field(
        10,
        ge=1,
        description="in a whole-organisation watch, more repos than this with the same kind "
        "of change (new, removed, relicensed, gated) come as one line with a count",
    )
    delivery_max_attempts: int = Field(20, ge=1)
    delivery_timeout: float = Field(20.0, gt=0)

    http_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="port for /healthz and /metrics; off unless set",
    )
    http_host: str = "0.0.0.0"
    hf_webhook_secret: SecretStr | None = Field(
        None,
        description="turns on POST /webhooks/huggingface on the POLICYBOT_HTTP_PORT server; "
        "the secret set on the Hub webhook (sent as X-Webhook-Secret)",
    )

    evidence_secret: SecretStr | None = Field(
        None,
        description="signs evidence links (HMAC-SHA256); rotate it to revoke every link",
    )
    evidence_link_days: float = Field(
        90.0,
        gt=0,
        description="how long an evidence link works after its alert is sent",
    )

    log_level: str = "INFO"
    log_format: str = "text"

    @field_validator("hf_endpoint", "github_api_url", "discord_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("private_url_allowlist")
    @classmethod
    def _allowlist(cls, value: str) -> str:
        for item in value.split(","):
            if item.strip():
                ipaddress.ip_network(item.strip(), strict=False)  # ValueError names the bad item
        return value

    @property
    def private_networks_allowed(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """POLICYBOT_PRIVATE_URL_ALLOWLIST as networks."""
        return tuple(
            ipaddress.ip_network(item.strip(), strict=False)
            for item in self.private_url_allowlist.split(",")
            if item.strip()
        )

    @field_validator("slack_watch_permission")
    @classmethod
    def _slack_permission(cls, value: str) -> str:
        words = [w.strip() for w in value.split(",") if w.strip()]
        if not words:
            raise ValueError("must be 'anyone', 'admins' or a comma-separated list of user ids")
        if "anyone" in (w.lower() for w in words):
            if len(words) > 1:
                raise ValueError("'anyone' cannot be combined with other entries")
            return "anyone"
        for word in words:
            if word.lower() != "admins" and not re.fullmatch(r"[UW][A-Z0-9]{2,}", word):
                raise ValueError(f"{word!r} is not a Slack user id (like U0123ABCD) or 'admins'")
        return ",".join(w.lower() if w.lower() == "admins" else w for w in words)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http(s) address like https://policybot.example.com")
        return value

    @property
    def slack_many_workspaces(self) -> bool:
        """Installs into any workspace (OAuth) rather than one workspace's SLACK_BOT_TOKEN."""
        return self.slack_client_id is not None

    @field_validator("discord_dev_guild_id", "http_port", "slack_client_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """``VAR=`` (as in a copied .env.example) means unset, not an invalid number."""
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
            self.slack_client_secret,
            self.discord_bot_token,
            self.hf_webhook_secret,
            self.evidence_secret,
        ]
        return [v.get_secret_value() for v in values if v and v.get_secret_value()]


def unworkable(settings: Settings) -> str | None:
    """Why this configuration cannot work (a token without its pair, a listener without its
    token), as one line; ``None`` when it can. Checked at start-up so that a mistake is one
    clear message, never a listener that crashes and restarts forever."""
    slack_bot = settings.slack_bot_token is not None
    if settings.slack_client_id is not None or settings.slack_client_secret is not None:
        return _many_workspaces_unworkable(settings)
    if settings.slack_app_token is not None and not slack_bot:
        return "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: Socket Mode needs both"
    if settings.slack_signing_secret is not None and not slack_bot:
        return "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not: HTTP mode needs both"
    return _discord_and_http_unworkable(settings)


def _discord_and_http_unworkable(settings: Settings) -> str | None:
    if settings.discord_dev_guild_id is not None and settings.discord_bot_token is None:
        return "DISCORD_DEV_GUILD_ID is set but DISCORD_BOT_TOKEN is not: there is no bot to sync"
    if settings.hf_webhook_secret is not None and not settings.http_port:
        return (
            "POLICYBOT_HF_WEBHOOK_SECRET is set but POLICYBOT_HTTP_PORT is not: "
            "no Hub webhook receiver could listen"
        )
    if settings.public_url and settings.evidence_secret is None:
        return (
            "POLICYBOT_PUBLIC_URL is set but POLICYBOT_EVIDENCE_SECRET is not: evidence links "
            "must be signed (set a long random secret)"
        )
    return None


def _many_workspaces_unworkable(settings: Settings) -> str | None:
    """Installs into any workspace: Slack redirects browsers and posts events to us over HTTP."""
    if settings.slack_client_id is None:
        return "SLACK_CLIENT_SECRET is set but SLACK_CLIENT_ID is not: installs need both"
    if settings.slack_client_secret is None:
        return "SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET is not: installs need both"
    if settings.slack_signing_secret is None:
        return (
            "SLACK_CLIENT_ID is set but SLACK_SIGNING_SECRET is not: every workspace's "
            "commands and events arrive signed over HTTP"
        )
    if settings.public_url is None:
        return (
            "SLACK_CLIENT_ID is set but POLICYBOT_PUBLIC_URL is not: Slack's install redirect "
            "needs the address people reach policybot at"
        )
    if settings.slack_app_token is not None:
        return (
            "SLACK_APP_TOKEN and SLACK_CLIENT_ID are both set: installs into many workspaces "
            "use HTTP mode (unset SLACK_APP_TOKEN), Socket Mode serves one workspace"
        )
    return _discord_and_http_unworkable(settings)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's validation error into one readable ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = [str(p) for p in err["loc"]]
            if loc and loc[0] in Settings.model_fields and loc[0] not in overrides:
                loc[0] = env_name(loc[0])  # set in the environment: say the name used there
            problems.append(f"{'.'.join(loc) or 'settings'}: {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


def env_name(field: str) -> str:
    """The environment variable (and .env) name that sets ``field``, as people write it:
    ``POLICYBOT_<FIELD>``, or the vendor-standard name for the few fields that keep one."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else ENV_PREFIX + field.upper()


def _default_parse_processes() -> int:
    """One worker per CPU (at most 4): parsing runs beside the event loop, not in turns with
    it. On one CPU a process buys nothing over a thread."""
    import os

    cpus = os.cpu_count() or 1
    return 0 if cpus < 2 else min(cpus, 4)
