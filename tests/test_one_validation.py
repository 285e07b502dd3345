"""One validation of selectors and regexes on every path: what the chat parser refuses, the
CLI's options and a watch list refuse too, with the same words, before anything is fetched
or stored (bot/commands/validation.py, judged by the engines the check itself uses)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.commands.grammar import USAGE
from tests.clihelp import cli_env, policybot
from tests.fakes.web import FakeWeb

B = "slack:C0BBBBBBB"
PAGE = "<html><body><main><p>Pro: $20 per month</p></main></body></html>"
BAD_REGEX = "--ignore '([unclosed' is not a valid regex: unterminated character set at position 1"
BAD_SELECTOR = (
    "--select 'main[' is not a valid CSS selector: Malformed attribute selector at position 4"
)


@pytest.fixture
async def web() -> AsyncIterator[FakeWeb]:
    async with FakeWeb() as fake:
        fake.set_page("/pricing", PAGE)
        yield fake


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--ignore", "([unclosed", BAD_REGEX), ("--select", "main[", BAD_SELECTOR)],
)
async def test_cli_watch_refuses_an_invalid_regex_or_selector_and_stores_nothing(
    web: FakeWeb, tmp_path: Path, option: str, value: str, message: str
) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", "http://127.0.0.1:9")
    ran = await policybot(
        env, "watch", f"page:{web.url}/pricing", "--to", B, option, value, cwd=tmp_path
    )
    assert ran.code == 2, ran.out
    assert ran.err == f"error: watch: {message}\nUsage: {USAGE['watch']}\n", "the chat's words"
    listing = await policybot(env, "list", cwd=tmp_path)
    assert listing.out.startswith("Nothing is watched"), listing.out
    assert web.count("/pricing") == 0, "refused before the baseline fetch"


async def test_a_watch_list_reports_every_bad_selector_and_regex_and_stores_nothing(
    web: FakeWeb, tmp_path: Path
) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", "http://127.0.0.1:9")
    watches = tmp_path / "team.toml"
    watches.write_text(
        "[[watch]]\n"
        f'target = "page:{web.url}/pricing"\n'
        f'to = "{B}"\n'
        'select = "main["\n'
        "\n"
        "[[watch]]\n"
        f'target = "page:{web.url}/pricing"\n'
        'to = "console"\n'
        "ignore = ['([unclosed', '^fine$']\n"
        "\n"
        "[[watch]]\n"
        'target = "hf:acme/fine"\n'
    )
    ran = await policybot(env, "import", str(watches), cwd=tmp_path)
    assert ran.code == 2
    assert ran.err.splitlines()[1:] == [
        f"{watches}:1: [[watch]] #1: {BAD_SELECTOR.removeprefix('--')}",
        f"{watches}:6: [[watch]] #2: {BAD_REGEX.removeprefix('--')}",
    ], "every mistake at once, each with its line"
    listing = await policybot(env, "list", cwd=tmp_path)
    assert listing.out.startswith("Nothing is watched"), "nothing is half-applied"
    assert web.count("/pricing") == 0
