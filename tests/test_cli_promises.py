"""Small promises a newcomer checks first: what ``diff`` says before there is anything to
compare, an alert heading that names the repo type once, and one error prefix."""

from __future__ import annotations

from pathlib import Path

from tests.clihelp import cli_env, policybot
from tests.conftest import Bot
from tests.fakes.hub import FakeHub


async def test_diff_tells_never_checked_from_only_a_baseline(bot: Bot, hub: FakeHub) -> None:
    hub.fail("acme/down", 500)
    assert "did not succeed" in await bot.run("watch hf:acme/down")
    never = await bot.run("diff hf:acme/down")
    assert never.startswith("hf:acme/down has not been checked yet (last attempt failed: ")
    assert "baseline" not in never

    hub.set_repo("acme/up", license="mit")
    await bot.run("watch hf:acme/up")
    await bot.cycle()
    once = await bot.run("diff hf:acme/up")
    assert once.startswith("hf:acme/up has only its baseline, taken 2026-01-05 09:00 UTC;")


async def test_a_dataset_alert_names_its_type_once(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo("acme/data", repo_type="dataset", license="mit")
    await bot.run("watch hf:datasets/acme/data")
    hub.set_repo("acme/data", repo_type="dataset", license="cc-by-nc-4.0")
    bot.clock.advance(hours=2)
    sent, text = await bot.cycle()
    head = text.splitlines()[0]
    assert sent == 1 and head.endswith("Licence changed — acme/data (Hugging Face dataset)"), head
    assert "(dataset)" not in head


async def test_cli_errors_share_one_prefix(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'e.db'}", "http://127.0.0.1:9")
    unknown = await policybot(env, "unwatch", "hf:acme/nothing", cwd=tmp_path)
    missing = await policybot(env, "import", "missing.toml", cwd=tmp_path)
    env["POLICYBOT_LOG_FORMAT"] = "xml"
    config = await policybot(env, "list", cwd=tmp_path)
    for ran in (unknown, missing, config):
        assert ran.code == 2 and ran.err.startswith("error: "), ran.err
        assert "policybot: " not in ran.err
