"""Run the real ``policybot`` CLI as a subprocess (the way a user runs it), asynchronously, so a
fake server on the test's event loop can answer it."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Ran:
    code: int
    out: str
    err: str


def cli_env(db: str, hub_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICYBOT_", "HF_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "POLICYBOT_DATABASE_URL": db,
            "HF_ENDPOINT": hub_url,
            "POLICYBOT_ALLOW_PRIVATE_URLS": "true",
            "POLICYBOT_CHECK_JITTER": "0",
            "POLICYBOT_HUB_TIMEOUT": "3",
        }
    )
    env.update(extra)
    return env


async def start(env: dict[str, str], *args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def start_logged(
    env: dict[str, str], *args: str, cwd: Path, log: Path
) -> asyncio.subprocess.Process:
    """A long-running process whose output goes to files: a pipe nobody reads fills up (64 KB)
    and then blocks the process on its next log line."""
    out = (log.with_suffix(".out")).open("ab")
    err = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, env=env, cwd=cwd, stdout=out, stderr=err
        )
    finally:
        out.close()
        err.close()


async def policybot(env: dict[str, str], *args: str, cwd: Path, timeout: float = 45) -> Ran:
    proc = await start(env, *args, cwd=cwd)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())
