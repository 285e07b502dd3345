"""Watch lists as code: export → import round-trips without changing anything (SQLite and
PostgreSQL), export of one channel, and malformed lists reported by file, line and reason with
nothing half-applied."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.commands import watchlist
from bot.domain.errors import UsageError
from tests.clihelp import cli_env, policybot
from tests.conftest import Bot, Clock, make_settings

SLACK = "slack:C0123ABCD"
HOOK = "webhook:https://hooks.example.com/services/T000/B000/secret"
WEB = "http://127.0.0.1:9"  # never fetched: importing takes no baseline

LIST = f"""
# the team's watches
[[watch]]
target = "hf:meta-llama/Llama-2-7b-hf"
to = ["console", "{SLACK}"]
min_severity = "notice"

[[watch]]
target = "page:{WEB}/pricing"
to = ["{HOOK}"]
select = "#plans"
ignore = ["^Last updated", "per seat"]

[[watch]]
target = "feed:{WEB}/blog.xml"
keywords = ["pricing", "licen", "-hiring"]
min_severity = "warning"

[[watch]]
target = "github:huggingface/transformers"
to = "{SLACK}"
digest = "weekly"
digest_all = true

[[watch]]
target = "preset:reddit"
to = ["{SLACK}"]
"""


def state(bot: Bot) -> list[tuple[Any, ...]]:
    """Everything an import may set, as a user would compare it."""
    return [
        (
            t.ref,
            t.kind,
            dict(t.options),
            s.id,
            s.channel,
            s.min_severity,
            dict(s.options),
            s.muted_until,
            s.created_by,
        )
        for s, t in bot.store.list_watches()
    ]


async def test_export_then_import_changes_nothing(db_url: str, clock: Clock) -> None:
    bot = Bot(make_settings(db_url), clock)
    try:
        lines = bot.service.apply_watchlist(watchlist.loads(LIST, "team.toml", "console"))
        assert len(lines) == 5 + 5 and all(line.startswith("added ") for line in lines)
        assert "Muted" in await bot.run(f"mute github:huggingface/transformers 3d --to {SLACK}")
        bot.clock.advance(hours=1)
        before = state(bot)

        exported = watchlist.dumps(bot.service.export_watchlist())
        again = bot.service.apply_watchlist(watchlist.loads(exported, "export.toml", "console"))
        assert len(again) == len(lines) and all(line.startswith("kept ") for line in again), again
        assert state(bot) == before
        assert watchlist.dumps(bot.service.export_watchlist()) == exported, "a fixed point"

        muted = [e for e in watchlist.loads(exported, "x", "console") if e.muted_until]
        assert [(e.target, e.channels) for e in muted] == [
            ("github:huggingface/transformers", (SLACK,))
        ]
        digested = [e for e in watchlist.loads(exported, "x", "console") if e.digest]
        assert [(e.target, e.digest, e.digest_all) for e in digested] == [
            ("github:huggingface/transformers", "weekly", True)
        ]
        page = next(e for e in watchlist.loads(exported, "x", "console") if e.select)
        assert (page.select, page.ignore, page.channels) == (
            "#plans",
            ("^Last updated", "per seat"),
            (HOOK,),
        )
    finally:
        await bot.close()


async def test_an_import_that_changes_settings_says_updated(clock: Clock, tmp_path: Path) -> None:
    bot = Bot(make_settings(f"sqlite:///{tmp_path / 'b.db'}"), clock)
    try:
        bot.service.apply_watchlist(watchlist.loads(LIST, "team.toml", "console"))
        changed = LIST.replace('min_severity = "warning"', 'min_severity = "critical"')
        lines = bot.service.apply_watchlist(watchlist.loads(changed, "team.toml", "console"))
        assert [line for line in lines if not line.startswith("kept ")] == [
            f"updated feed:{WEB}/blog.xml → console"
        ]
        sub, _t = next((s, t) for s, t in bot.store.list_watches() if t.kind == "feed")
        assert sub.min_severity == "critical"
    finally:
        await bot.close()


async def test_export_of_one_channel_and_into_a_fresh_bot(clock: Clock, tmp_path: Path) -> None:
    first = Bot(make_settings(f"sqlite:///{tmp_path / 'a.db'}"), clock)
    second = Bot(make_settings(f"sqlite:///{tmp_path / 'b.db'}"), clock)
    try:
        first.service.apply_watchlist(watchlist.loads(LIST, "team.toml", "console"))
        only = watchlist.loads(
            watchlist.dumps(first.service.export_watchlist(SLACK)), "slack.toml", "console"
        )
        assert {c for e in only for c in e.channels} == {SLACK}
        assert len(only) == 2 + 5, "llama, transformers and the reddit preset's five"
        second.service.apply_watchlist(only)
        exported = watchlist.dumps(second.service.export_watchlist())
        assert exported == watchlist.dumps(first.service.export_watchlist(SLACK))
    finally:
        await first.close()
        await second.close()


# ------------------------------------------------------------------- malformed lists

MALFORMED = f"""[[watch]]
target = "hf:acme/fine"

[[watch]]
target = "hf:acme/x"
min_severity = "loud"

[[watch]]  # a comment after the header
target = "page:{WEB}/terms"
ignore = ["(unclosed"]

[[watch]]
target = "hf:acme/y"
to = ["slack"]
colour = "red"

[[watch]]
target = "hf:acme/z"
keywords = ["only", "for", "feeds"]
"""


def test_each_invalid_entry_is_reported_by_file_line_and_reason() -> None:
    with pytest.raises(UsageError) as caught:
        watchlist.loads(MALFORMED, "team.toml", "console")
    message = str(caught.value)
    assert message.splitlines() == [
        "invalid watch list:",
        "team.toml:4: [[watch]] #2: unknown severity 'loud' (choose one of info, notice, "
        "warning, critical)",
        "team.toml:8: [[watch]] #3: ignore '(unclosed' is not a valid regex: missing ), "
        "unterminated subpattern at position 0",
        "team.toml:12: [[watch]] #4: unknown key 'colour' (allowed: digest, digest_all, "
        "ignore, keywords, min_severity, muted_until, select, target, to)",
        # every problem of an entry, not only its first
        "team.toml:12: [[watch]] #4: unknown channel 'slack': use console, slack:<channel id>, "
        "discord:<channel id>, slack-webhook:<url>, discord-webhook:<url> or webhook:<url>",
    ]


def test_a_toml_syntax_error_names_its_line() -> None:
    with pytest.raises(UsageError, match=r"^team\.toml:3: not valid TOML: .*\(column \d+\)$"):
        watchlist.loads('[[watch]]\ntarget = "hf:a/b"\nto = [console]\n', "team.toml", "console")


async def test_entries_the_bot_cannot_watch_stop_the_whole_import(
    clock: Clock, tmp_path: Path
) -> None:
    bot = Bot(make_settings(f"sqlite:///{tmp_path / 'b.db'}"), clock)
    try:
        text = (
            '[[watch]]\ntarget = "hf:acme/fine"\n\n'
            '[[watch]]\ntarget = "hf:acme/z"\nkeywords = ["only", "feeds"]\n\n'
            '[[watch]]\ntarget = "preset:nope"\n'
        )
        entries = watchlist.loads(text, "team.toml", "console")
        assert [e.target for e in entries] == ["hf:acme/fine", "hf:acme/z", "preset:nope"]
        with pytest.raises(UsageError) as caught:
            bot.service.apply_watchlist(entries)
        assert str(caught.value).splitlines()[1:] == [  # in file order
            "team.toml:4: [[watch]] #2: keywords applies to feed: targets only",
            "team.toml:8: [[watch]] #3: no preset 'nope'; "
            "presets: preset:docker, preset:github, preset:huggingface, preset:openai, "
            "preset:reddit",
        ]
        assert bot.store.list_watches() == [], "nothing is half-applied"
        assert bot.store.get_target("hf:acme/fine") is None
    finally:
        await bot.close()


async def test_a_watch_listed_twice_for_a_channel_is_refused(clock: Clock, tmp_path: Path) -> None:
    """Two settings for one watch would leave the result to the order of the file, and a
    re-import would never say "kept"."""
    bot = Bot(make_settings(f"sqlite:///{tmp_path / 'b.db'}"), clock)
    try:
        text = (
            '[[watch]]\ntarget = "preset:huggingface"\n\n'
            '[[watch]]\ntarget = "https://github.com/huggingface/transformers"\n'
            'min_severity = "critical"\n'
        )
        with pytest.raises(UsageError) as caught:
            bot.service.apply_watchlist(watchlist.loads(text, "team.toml", "console"))
        assert str(caught.value).splitlines()[1:] == [
            "team.toml:4: [[watch]] #2: github:huggingface/transformers → console is already "
            "listed (team.toml:1: [[watch]] #1: preset:huggingface v1 "
            "github:huggingface/transformers)"
        ]
        assert bot.store.list_watches() == []
    finally:
        await bot.close()


# ------------------------------------------------------------------- the CLI


async def test_cli_export_import_round_trip_and_presets(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'p.db'}", "http://127.0.0.1:9")
    listing = await policybot(env, "presets", cwd=tmp_path)
    assert listing.code == 0 and listing.out.count(" sources) · ") == 5
    watches = tmp_path / "team.toml"
    watches.write_text(LIST)
    first = await policybot(env, "import", str(watches), cwd=tmp_path)
    assert first.code == 0 and first.out.count("added ") == 10, first.err
    exported = await policybot(env, "export", cwd=tmp_path)
    assert exported.code == 0 and exported.out.startswith("# policybot watch list: 9 entries")
    (tmp_path / "export.toml").write_text(exported.out)
    second = await policybot(env, "import", str(tmp_path / "export.toml"), cwd=tmp_path)
    assert second.code == 0 and second.out.count("kept ") == 10 and "added" not in second.out
    one = await policybot(env, "export", "--to", HOOK, cwd=tmp_path)
    assert one.out.count("[[watch]]") == 1 and f"page:{WEB}/pricing" in one.out
    (tmp_path / "bad.toml").write_text(MALFORMED)
    bad = await policybot(env, "import", str(tmp_path / "bad.toml"), cwd=tmp_path)
    assert bad.code == 2 and f"{tmp_path / 'bad.toml'}:4: [[watch]] #2" in bad.err
    assert "Traceback" not in bad.err


def test_dumps_keeps_every_field_and_an_empty_list_is_valid() -> None:
    entries = watchlist.loads(LIST, "team.toml", "console")
    again = watchlist.loads(watchlist.dumps(entries), "x", "console")
    strip = [e.__class__(**{**_fields(e), "where": ""}) for e in entries]
    assert [e.__class__(**{**_fields(e), "where": ""}) for e in again] == strip
    assert watchlist.loads(watchlist.dumps([], ["nothing watched"]), "x", "console") == []
    muted = strip[0].__class__(**{**_fields(strip[0]), "muted_until": Clock().now + timedelta(1)})
    assert watchlist.loads(watchlist.dumps([muted]), "x", "console")[0].muted_until == (
        muted.muted_until
    )


def _fields(entry: watchlist.WatchEntry) -> dict[str, Any]:
    return {f: getattr(entry, f) for f in entry.__dataclass_fields__}
