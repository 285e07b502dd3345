"""The CLI as a user runs it: a subprocess against the fake Hub, output read from its streams."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.clihelp import cli_env, policybot
from tests.fakes.hub import FakeHub
from tests.fakes.web import FakeWeb


async def test_watch_check_list_history_unwatch(hub: FakeHub, tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", hub.url)
    hub.set_repo("bigscience/bloom", license="bigscience-bloom-rail-1.0")
    hub.set_repo("HuggingFaceFW/fineweb", repo_type="dataset", license="odc-by")

    ran = await policybot(
        env,
        "watch",
        "hf:bigscience/bloom",
        "https://huggingface.co/datasets/HuggingFaceFW/fineweb",
        cwd=tmp_path,
    )
    assert ran.code == 0, ran.err
    assert (
        "Watching hf:bigscience/bloom → console. Baseline: licence: bigscience-bloom-rail-1.0 "
        "(proprietary-free) · gated: no · private: no · disabled: no" in ran.out
    )
    assert "Watching hf:datasets/HuggingFaceFW/fineweb → console" in ran.out

    hub.set_repo("bigscience/bloom", license="cc-by-nc-4.0", gated="manual")
    ran = await policybot(env, "check", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert "checked 2 targets: 1 changed, 0 failed" in ran.err
    assert "1 delivered" in ran.err
    # One alert for one check of one target, even with two changes in it.
    assert ran.out.count("—") == 1, "one alert for one check of one target"
    assert "[WARNING]  Licence and access changed — bigscience/bloom (Hugging Face model)" in (
        ran.out
    )
    assert (
        "bigscience-bloom-rail-1.0 (proprietary-free) → CC-BY-NC-4.0 (non-commercial) · lateral"
        in (ran.out)
    )
    assert "public → gated (manual)" in ran.out

    ran = await policybot(env, "list", cwd=tmp_path)
    assert "hf:bigscience/bloom → console · ok" in ran.out
    ran = await policybot(env, "history", "hf:bigscience/bloom", cwd=tmp_path)
    assert "licence" in ran.out and "access" in ran.out
    ran = await policybot(env, "unwatch", "hf:bigscience/bloom", cwd=tmp_path)
    assert ran.code == 0 and "Stopped watching hf:bigscience/bloom" in ran.out
    ran = await policybot(env, "check", "hf:bigscience/bloom", cwd=tmp_path)
    assert ran.code == 2 and "not watched" in ran.err


async def test_check_exits_zero_when_upstream_fails_and_says_why(
    hub: FakeHub, tmp_path: Path
) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", hub.url)
    hub.set_repo("acme/x", license="mit")
    assert (await policybot(env, "watch", "hf:acme/x", cwd=tmp_path)).code == 0
    hub.fail("acme/x", 502)
    ran = await policybot(env, "check", cwd=tmp_path)
    assert ran.code == 0
    assert "checked 1 target: 0 changed, 1 failed" in ran.err
    assert "hf:acme/x: check failed: the Hub answered HTTP 502" in ran.err
    assert "Traceback" not in ran.err and ran.out == ""


async def test_usage_errors_name_the_mistake(hub: FakeHub, tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", hub.url)
    ran = await policybot(env, "watch", "hf:acme/x", "--min-severity", "loud", cwd=tmp_path)
    assert ran.code == 2 and "unknown severity 'loud'" in ran.err
    ran = await policybot(env, "watch", "acme", cwd=tmp_path)
    assert ran.code == 2 and "cannot read 'acme' as a target" in ran.err


async def test_bad_configuration_is_one_clear_message(hub: FakeHub, tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", hub.url, POLICYBOT_CHECK_INTERVAL="soon")
    ran = await policybot(env, "list", cwd=tmp_path)
    assert ran.code == 2
    assert "invalid configuration: POLICYBOT_CHECK_INTERVAL" in ran.err
    assert "Traceback" not in ran.err


async def test_import_applies_a_watch_list_idempotently(hub: FakeHub, tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", hub.url)
    watches = tmp_path / "w.toml"
    watches.write_text(
        '[[watch]]\ntarget = "hf:acme/x"\n\n[[watch]]\ntarget = "hf:acme/y"\n'
        'min_severity = "critical"\n'
    )
    first = await policybot(env, "import", str(watches), cwd=tmp_path)
    assert first.code == 0 and first.out.count("added") == 2
    second = await policybot(env, "import", str(watches), cwd=tmp_path)
    assert second.code == 0 and second.out.count("kept") == 2 and "added" not in second.out
    watches.write_text('[[watch]]\ntarget = "hf:acme/z"\n\n[[watch]]\ntarget = "hf:a/b/c"\n')
    bad = await policybot(env, "import", str(watches), cwd=tmp_path)
    assert bad.code == 2 and "[[watch]] #2" in bad.err
    listing = await policybot(env, "list", cwd=tmp_path)
    assert "hf:acme/z" not in listing.out, "nothing is half-applied"


# What `policybot check` must not import: each is needed only by some other command, by a chat
# bot whose token is unset, or by an alert (none is posted when nothing changed). Start-up is
# most of a quiet cycle's CPU (issue 14), so an import that creeps back in fails here.
NOT_FOR_A_QUIET_CHECK = (
    "slack_sdk",  # the Slack and Discord bots: only with their tokens
    "slack_bolt",
    "discord",
    "alembic",  # migrations: only when the schema is behind
    "apscheduler",  # `policybot run`'s scheduler, ops server and metrics
    "prometheus_client",
    "bot.runtime.runner",
    "bot.runtime.runlock",
    "jinja2",  # evidence pages: only the ops server, with a signing key
    "bot.evidence.queries",
    "bot.evidence.site",
    "adapters.discord_embeds",  # alert rendering: only when an alert is posted
    "adapters.slack_blocks",
    "bot.commands.watchlist",  # watch list files and presets: import/export/run/watch preset:
    "bot.commands.presets",
    "tomli_w",
    "feedparser",  # feeds: only when a feed body is parsed
    "bs4",
    "sqlalchemy.dialects.postgresql",  # every PostgreSQL driver's module: not on SQLite
)

_MODULES_AT_EXIT = """
import atexit, json, runpy, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["policybot", *sys.argv[2:]]
runpy.run_module("bot.cli", run_name="__main__", alter_sys=True)
"""


async def test_a_quiet_check_imports_only_what_it_uses(web: FakeWeb, tmp_path: Path) -> None:
    """``policybot check`` over a page that answers 304: the modules loaded by the end."""
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", "http://127.0.0.1:9")
    web.set_page("/pricing", "<html><body><main><p>Pro: $10</p></main></body></html>")
    ran = await policybot(env, "watch", f"page:{web.url}/pricing", cwd=tmp_path)
    assert ran.code == 0, ran.err
    listed = tmp_path / "modules.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _MODULES_AT_EXIT, str(listed), "check", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(proc.communicate(), 45)
    assert proc.returncode == 0, err.decode()
    assert "checked 1 target: 0 changed, 0 failed" in err.decode()
    assert web.hits("/pricing")[-1].headers.get("if-none-match"), "a conditional GET: a 304"
    loaded = set(json.loads(listed.read_text()))
    assert {"bot.service.executor", "aiohttp"} <= loaded, "the list is of the real run"
    imported = sorted(
        m for m in NOT_FOR_A_QUIET_CHECK if any(n == m or n.startswith(m + ".") for n in loaded)
    )
    assert imported == [], f"`policybot check` imported {imported}"
