"""Long CLI work shows a progress bar on a terminal, and nothing but its result otherwise."""

from __future__ import annotations

import asyncio
import os
import pty
import sys
from pathlib import Path

from tests.clihelp import cli_env, policybot

TARGETS = 30


def _watch_list(path: Path) -> Path:
    path.write_text("".join(f'[[watch]]\ntarget = "hf:acme/m{i}"\n\n' for i in range(TARGETS)))
    return path


async def _on_a_terminal(env: dict[str, str], *args: str, cwd: Path) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal, as in an interactive shell."""
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=cwd, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = asyncio.get_running_loop().run_in_executor(None, drain)
    code = await asyncio.wait_for(proc.wait(), 60)
    await asyncio.wait_for(reader, 10)
    os.close(master)
    return code, b"".join(chunks).decode(errors="replace")


async def test_import_and_check_show_a_bar_on_a_terminal_and_only_results_otherwise(
    tmp_path: Path,
) -> None:
    env = cli_env(
        f"sqlite:///{tmp_path / 'p.db'}",
        "http://127.0.0.1:9",
        TERM="xterm",
        POLICYBOT_LOG_LEVEL="ERROR",
    )
    env.pop("NO_COLOR", None)
    _watch_list(tmp_path / "w.toml")
    piped = await policybot(env, "import", "w.toml", cwd=tmp_path)
    assert piped.code == 0, piped.err
    assert piped.out.splitlines() == [f"added hf:acme/m{i} → console" for i in range(TARGETS)]
    assert piped.err == "" and "\x1b" not in piped.out

    checked = await policybot(env, "check", cwd=tmp_path, timeout=90)
    summary = [ln for ln in checked.err.splitlines() if not ln.startswith("  ")]
    assert summary == [
        f"checked {TARGETS} targets: 0 changed, {TARGETS} failed, 0 unchanged or baseline; "
        "0 alerts queued; 0 delivered"
    ], checked.err
    assert "\x1b" not in checked.err and "━" not in checked.err

    code, screen = await _on_a_terminal(env, "check", cwd=tmp_path)
    assert code == 0, screen
    assert "checking" in screen and "━" in screen, screen[:2000]
    assert f"/{TARGETS}" in screen, "the bar counts targets"
    assert f"checked {TARGETS} targets" in screen
