"""The CLI as a user runs it: a subprocess against the fake Hub, output read from its streams."""

from __future__ import annotations

from pathlib import Path

from tests.clihelp import cli_env, policybot
from tests.fakes.hub import FakeHub


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
