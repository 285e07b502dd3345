"""Shared fixtures: a fake Hub, a moving clock, databases (SQLite and the machine's PostgreSQL).

Tests use real parts: the real huggingface_hub client against the fake Hub server, the real
store on a real database, the real console adapter writing into a buffer.
"""

from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from adapters.console import ConsoleAdapter
from adapters.webhooks import WebhookAdapter
from bot.commands.invocation import Invocation
from bot.config import Settings, load_settings
from bot.service.executor import Service
from bot.sources import build_sources
from bot.store import Store
from tests.fakes.discord import FakeDiscord
from tests.fakes.hub import FakeHub
from tests.fakes.slack import FakeSlack
from tests.fakes.web import FakeWeb
from tests.pgcluster import Cluster, why_unavailable

if TYPE_CHECKING:
    from tests.discord_harness import DiscordBot

PG_URL = os.environ.get("POLICYBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
# ../shared/corpus next to the clone; POLICYBOT_TEST_CORPUS points elsewhere (a worktree).
CORPUS = Path(
    os.environ.get("POLICYBOT_TEST_CORPUS")
    or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)


def under_ci() -> bool:
    return os.environ.get("CI") == "true"


def skip_unless_ci(reason: str) -> None:
    """Skip on a user's machine; under CI (``CI=true``), which always has the corpus and
    PostgreSQL, a missing prerequisite is a failure, never a quiet skip."""
    if under_ci():
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


def corpus_path(*parts: str) -> Path:
    """A path inside ../shared/corpus, or a skip when the corpus is not there (a user's clone)."""
    if not CORPUS.is_dir():
        skip_unless_ci("../shared/corpus not present (it exists only in the project's workspace)")
    return CORPUS.joinpath(*parts)


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(
            PG_URL.replace("postgresql://", "postgresql+psycopg://"),
            connect_args={"connect_timeout": 3},
        )
        with engine.connect() as c:
            c.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as e:  # any failure means "not here"
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


@pytest.fixture(scope="session")
def pg_reason() -> str | None:
    return _pg_available()


@pytest.fixture
def pg_url(pg_reason: str | None) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    if pg_reason is not None:
        skip_unless_ci(f"PostgreSQL not reachable at {PG_URL}: {pg_reason}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://"), pool_pre_ping=True
    )
    with admin.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as c:
        c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def own_pg() -> Iterator[Cluster]:
    """A private, running PostgreSQL cluster (tests/pgcluster.py) that the test may stop,
    start and restart; destroyed afterwards. The shared server is never touched."""
    reason = why_unavailable()
    if reason is not None:
        skip_unless_ci(f"no throwaway PostgreSQL cluster: {reason}")
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both databases the bot supports; store tests run on each."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'policybot.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An open store on each database (store tests)."""
    s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture
async def hub() -> AsyncIterator[FakeHub]:
    async with FakeHub() as fake:
        yield fake


@pytest.fixture
async def web() -> AsyncIterator[FakeWeb]:
    """A fake site for page watches (a test module with a different site defines its own)."""
    async with FakeWeb() as fake:
        yield fake


def make_settings(db: str, hub_url: str = "http://127.0.0.1:9", **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db,
        "hf_endpoint": hub_url,
        "allow_private_urls": True,
        "check_interval": 3600,
        "check_jitter": 0,
        "retry_base": 60,
        "hub_timeout": 2,
        "delivery_timeout": 5,
    }
    values.update(extra)
    return load_settings(**values)


class Bot:
    """A whole policybot (store, real sources, real console adapter) for one test."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.out = io.StringIO()
        self.store = Store.open(settings.database_url)
        self.service = Service(
            settings,
            self.store,
            build_sources(settings),
            {"console": ConsoleAdapter(self.out), "webhook": WebhookAdapter(settings)},
            clock,
            owner="test",
        )
        self.cli = Invocation(channel="console", actor="test", allow_to=True)

    async def run(self, text: str) -> str:
        reply = await self.service.run_text(text, self.cli)
        return reply.text

    async def cycle(self) -> tuple[int, str]:
        """Check what is due, deliver, and return (alerts sent, console text printed)."""
        before = self.out.tell()
        await self.service.checker.check_due()
        sent = await self.service.dispatcher.flush()
        self.out.seek(before)
        text = self.out.read()
        return sent.sent, text

    async def close(self) -> None:
        for adapter in self.service.dispatcher.adapters.values():
            close = getattr(adapter, "aclose", None)
            if close is not None:
                await close()
        await self.service.aclose()


@pytest.fixture
async def bot(hub: FakeHub, clock: Clock, tmp_path: Path) -> AsyncIterator[Bot]:
    b = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url), clock)
    yield b
    await b.close()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake
    # Every command and click was acknowledged within Slack's 3 s, not merely acknowledged.
    assert fake.late_acks == [], f"acks after Slack's 3 s deadline: {fake.late_acks}"


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake
    # Every interaction got its first response within Discord's 3 s (else: 10062).
    late = [(i.id, i.late_callback) for i in fake.late_callbacks]
    assert late == [], f"interaction callbacks after Discord's 3 s deadline: {late}"


@pytest.fixture
async def dbot(
    discord_fake: FakeDiscord, hub: FakeHub, clock: Clock, tmp_path: Path
) -> AsyncIterator[DiscordBot]:
    """A whole policybot on SQLite, connected to the fake Discord and listening for commands."""
    from tests.discord_harness import DiscordBot  # the harness imports this module

    bot = DiscordBot(discord_fake, f"sqlite:///{tmp_path / 'bot.db'}", hub.url, clock)
    await bot.listen()
    yield bot
    await bot.close()


@pytest.fixture
def no_errors_inside_discord_py(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """discord.py logs and swallows exceptions raised in command callbacks; fail on them."""
    yield
    errors = [
        r.getMessage()
        for r in caplog.get_records("call")
        if r.levelno >= logging.ERROR and r.name.startswith(("discord", "adapters"))
    ]
    assert errors == [], errors
