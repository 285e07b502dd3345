"""Start-up the way a newcomer does it: ``cp .env.example .env``, then ``policybot run`` or a
one-shot command. Mistakes are one line and an exit code, never a traceback or a restart loop;
a database that is not up yet is waited for."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.clihelp import ROOT, cli_env, policybot, start
from tests.pgcluster import Cluster

PASSWORD = "hunter2-not-for-logs"


def _newcomer_dir(tmp_path: Path, **lines: str) -> Path:
    """A directory with .env copied from .env.example, with ``lines`` filled in."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name, value in lines.items():
        assert f"\n{name}=" in text, name
        text = text.replace(f"\n{name}=", f"\n{name}={value}\n# was: {name}=", 1)
    (tmp_path / ".env").write_text(text, encoding="utf-8")
    return tmp_path


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The process environment without our variables: only .env configures the bot."""
    env = cli_env("unused", "unused", **extra)
    for name in ("POLICYBOT_DATABASE_URL", "HF_ENDPOINT", "POLICYBOT_CHECK_JITTER"):
        env.pop(name, None)
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # no network in tests
    return env


async def _line(stream: asyncio.StreamReader, needle: str, timeout: float = 30) -> str:
    """The first line of ``stream`` containing ``needle``; fails the test on timeout or EOF."""

    async def read() -> str:
        while True:
            raw = await stream.readline()
            if not raw:
                pytest.fail(f"output ended without a line containing {needle!r}")
            line = raw.decode(errors="replace")
            if needle in line:
                return line

    return await asyncio.wait_for(read(), timeout)


async def test_a_copied_env_example_runs_with_no_listener_and_no_traceback(
    tmp_path: Path,
) -> None:
    cwd = _newcomer_dir(tmp_path)
    proc = await start(_env(tmp_path), "run", cwd=cwd)
    assert proc.stderr is not None
    running = await _line(proc.stderr, "policybot running")
    assert "command listeners: none" in running, running
    proc.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    assert (cwd / "policybot.db").exists(), "the default SQLite database, not a blank URL"


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        ({"SLACK_APP_TOKEN": "xapp-1-A1-1-abc"}, "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "abc123"}, "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN"),
        ({"DISCORD_DEV_GUILD_ID": "1234"}, "DISCORD_DEV_GUILD_ID is set but DISCORD_BOT_TOKEN"),
        ({"POLICYBOT_HF_WEBHOOK_SECRET": "s"}, "but POLICYBOT_HTTP_PORT is not"),
    ],
)
async def test_a_configuration_that_cannot_work_is_one_line_and_exit_2(
    tmp_path: Path, lines: dict[str, str], says: str
) -> None:
    ran = await policybot(_env(tmp_path), "run", cwd=_newcomer_dir(tmp_path, **lines), timeout=30)
    assert ran.code == 2, ran.err
    assert ran.err.splitlines() == [ran.err.strip()], "one line"
    assert ran.err.startswith("error: invalid configuration: ") and says in ran.err


@pytest.mark.parametrize("command", [("run",), ("list",), ("db", "upgrade")])
async def test_a_malformed_database_url_is_one_line_and_exit_2(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    cwd = _newcomer_dir(tmp_path, POLICYBOT_DATABASE_URL=f"nonsense:{PASSWORD}")
    ran = await policybot(_env(tmp_path), *command, cwd=cwd, timeout=30)
    assert ran.code == 2, ran.err
    assert ran.err.splitlines() == [ran.err.strip()], ran.err
    assert ran.err.startswith("error: POLICYBOT_DATABASE_URL=") and "not a database URL" in ran.err


def _unreachable_url() -> str:
    """A PostgreSQL URL with a password on a port where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://policybot:{PASSWORD}@127.0.0.1:{port}/policybot"


@pytest.mark.parametrize("command", [("list",), ("check",), ("db", "upgrade")])
async def test_an_unreachable_database_is_one_line_and_exit_1_for_one_shot_commands(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    cwd = _newcomer_dir(tmp_path, POLICYBOT_DATABASE_URL=_unreachable_url())
    ran = await policybot(_env(tmp_path), *command, cwd=cwd, timeout=30)
    assert ran.code == 1, ran.err
    assert ran.err.splitlines() == [ran.err.strip()], ran.err
    assert ran.err.startswith("error: cannot reach the database at postgresql://policybot:***@")
    assert PASSWORD not in ran.err


async def test_run_waits_for_a_database_that_is_not_up_yet(tmp_path: Path, own_pg: Cluster) -> None:
    """The database of a compose file or a restarting server comes up after the bot: ``run``
    tries again with backoff, one line per attempt, and starts once it answers."""
    await asyncio.to_thread(own_pg.stop)
    url = own_pg.url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    cwd = _newcomer_dir(tmp_path, POLICYBOT_DATABASE_URL=url)
    proc = await start(_env(tmp_path), "run", cwd=cwd)
    assert proc.stderr is not None
    try:
        first = await _line(proc.stderr, "cannot reach the database")
        assert "attempt 1" in first and PASSWORD not in first and "postgres:***@" in first
        second = await _line(proc.stderr, "cannot reach the database")
        assert "attempt 2" in second
        await asyncio.to_thread(own_pg.start)
        await _line(proc.stderr, "policybot running")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()


async def test_sigterm_while_waiting_for_the_database_exits_cleanly(tmp_path: Path) -> None:
    cwd = _newcomer_dir(tmp_path, POLICYBOT_DATABASE_URL=_unreachable_url())
    proc = await start(_env(tmp_path), "run", cwd=cwd)
    assert proc.stderr is not None
    await _line(proc.stderr, "attempt 1")
    proc.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
