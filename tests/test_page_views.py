"""Two channels, one page, two views (issue 11, design §2 and invariant 9): a page's
select/ignore belong to each subscription. The page is fetched once per check however many
views; each channel is told about its own view only; one channel's options (even
``--ignore '.*'``) never blind another; changing them re-baselines that channel alone.
Existing databases keep every subscription's behaviour through migration 0003."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.commands import watchlist
from bot.commands.invocation import Invocation
from bot.domain.model import TargetRef, facts_digest
from bot.store import Store
from bot.store.engine import create_engine
from bot.store.migrate import current_revision, head_revision, upgrade
from bot.text.html_text import compile_ignore, html_lines
from bot.text.page_views import pack
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.hub import FakeHub
from tests.fakes.slack import FakeSlack, Posted
from tests.fakes.web import FakeWeb
from tests.slack_harness import SlackBot, slack_settings

A, B = "C0AAAAAAA", "C0BBBBBBB"

PAGE = """<html><body><nav>Home · Pricing</nav><main>
<h1>Pricing</h1>
<section id="plans"><p>Pro: $20 per month</p><p>Team: $40 per seat per month</p></section>
<section id="terms"><p>Cancel any time.</p></section>
</main><footer>© 2026</footer></body></html>"""


@pytest.fixture
async def sbot(
    hub: FakeHub, slack: FakeSlack, clock: Clock, tmp_path: Path
) -> AsyncIterator[SlackBot]:
    bot = SlackBot(slack_settings(f"sqlite:///{tmp_path / 'bot.db'}", hub.url, slack), clock)
    await bot.listen()
    yield bot
    await bot.close()


@pytest.fixture
async def bot(clock: Clock, tmp_path: Path) -> AsyncIterator[Bot]:
    b = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}"), clock)
    yield b
    await b.close()


async def slash(slack: FakeSlack, text: str, channel: str) -> str:
    """A /policy command typed in ``channel``; the answer the user reads."""
    before = len(slack.posted("response"))
    ack = await slack.wait_ack(await slack.send_slash(text, channel=channel))
    if ack.payload and ack.payload.get("text") != "Working on it…":
        return str(ack.payload)  # quick commands answer in the ack itself
    answers = await slack.wait_for("response", before + 1)
    return answers[before].text


def alerts(slack: FakeSlack, channel: str) -> list[Posted]:
    return slack.messages(channel)


async def in_channel(bot: Bot, text: str, channel: str) -> str:
    """A command typed in a chat channel (not the operator's CLI)."""
    reply = await bot.service.run_text(text, Invocation(channel=channel, actor="u"))
    return reply.text


# ------------------------------------------------------------------- through Slack


async def test_each_channel_hears_only_of_its_own_view_from_one_fetch(
    sbot: SlackBot, slack: FakeSlack, web: FakeWeb
) -> None:
    url = f"{web.url}/pricing"
    web.set_page("/pricing", PAGE)
    answer = await slash(slack, f'watch page:{url} --select "#plans"', A)
    assert "Baseline: 2 lines of text, starting “Pro: $20 per month”" in answer, answer
    answer = await slash(slack, f'watch page:{url} --select "#terms"', B)
    assert "Baseline: 1 line of text, starting “Cancel any time.”" in answer, answer
    assert alerts(slack, A) == [] and alerts(slack, B) == [], "baselines are not alerts"

    web.set_page("/pricing", PAGE.replace("Cancel any time.", "No refunds."))
    requests = web.count("/pricing")
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).sent == 1
    assert web.count("/pricing") == requests + 1, "one request, however many views"
    assert alerts(slack, A) == [], "outside A's region"
    [told] = alerts(slack, B)
    assert "No refunds." in told.all_text() and "$20" not in told.all_text()

    web.set_page("/pricing", PAGE.replace("$20", "$25").replace("Cancel any time.", "No refunds."))
    sbot.clock.advance(hours=2)
    assert (await sbot.cycle()).sent == 1
    assert web.count("/pricing") == requests + 2
    [told] = alerts(slack, A)
    assert "$25" in told.all_text() and "refunds" not in told.all_text()
    assert len(alerts(slack, B)) == 1, "B's region did not move"

    # Each channel's history and diff are its own view's.
    history_a = await slash(slack, f"history page:{url}", A)
    history_b = await slash(slack, f"history page:{url}", B)
    assert history_a.count("Page text changed") == 1 and "price changed" in history_a
    assert history_b.count("Page text changed") == 1 and "price changed" not in history_b
    diff_b = await slash(slack, f"diff page:{url}", B)
    assert "+No refunds." in diff_b and "-Cancel any time." in diff_b and "$2" not in diff_b


async def test_ignoring_everything_in_one_channel_never_blinds_another(
    sbot: SlackBot, slack: FakeSlack, web: FakeWeb
) -> None:
    url = f"{web.url}/pricing"
    web.set_page("/pricing", PAGE)
    assert "Baseline: 4 lines" in await slash(slack, f"watch page:{url}", A)
    answer = await slash(slack, f"watch page:{url} --ignore '.*'", B)
    assert "The first check did not succeed" in answer and "no text" in answer, answer

    for n, price in enumerate(("$25", "$30"), start=1):
        web.set_page("/pricing", PAGE.replace("$20", price))
        sbot.clock.advance(hours=2)
        await sbot.cycle()
        assert len(alerts(slack, A)) == n, "A's watch still sees every change"
        assert price in alerts(slack, A)[-1].all_text()
    [failing] = alerts(slack, B)  # told once, in B only, that its own view shows nothing
    assert "Watch failing" in failing.text and "no text" in failing.all_text()
    target = sbot.store.get_target(f"page:{url}")
    assert target is not None and target.failures == 0, "the target itself is fine"


# ------------------------------------------------------------------- re-baselining one view


async def test_changing_one_channels_options_rebaselines_that_channel_only(
    bot: Bot, web: FakeWeb
) -> None:
    ref = f"page:{web.url}/pricing"
    a, b = "slack:C0AAAAAAA", "slack:C0BBBBBBB"
    web.set_page("/pricing", PAGE)
    await in_channel(bot, f"watch {ref}", a)
    await in_channel(bot, f'watch {ref} --select "#terms"', b)

    reply = await in_channel(bot, f'watch {ref} --select "#plans"', b)
    assert "Select/ignore changed: new baseline, no alert for this." in reply
    assert "Baseline: 2 lines of text, starting “Pro: $20 per month”" in reply
    await later(bot)
    assert told(bot, a) == [] and told(bot, b) == [], "no alert to anyone for a re-baseline"
    assert "Page text changed" not in await in_channel(bot, f"history {ref}", b)

    web.set_page("/pricing", PAGE.replace("Cancel any time.", "No refunds."))
    await later(bot)
    [alert] = told(bot, a)
    assert "No refunds." in alert, "A still sees the whole main text, as it asked"
    assert told(bot, b) == [], "the terms are outside B's new region"

    web.set_page("/pricing", PAGE.replace("Cancel any time.", "No refunds.").replace("$20", "$9"))
    await later(bot)
    assert len(told(bot, a)) == 2 and len(told(bot, b)) == 1
    assert "$9" in told(bot, b)[0]


def told(bot: Bot, channel: str) -> list[str]:
    """What was queued for ``channel`` (alerts), as text."""
    return [str(d.payload) for d in bot.store.deliveries_for(channel)]


async def later(bot: Bot) -> None:
    bot.clock.advance(hours=2)
    await bot.service.checker.check_due()


# ------------------------------------------------------------------- watch lists


async def test_export_and_import_keep_each_channels_view(
    clock: Clock, tmp_path: Path, web: FakeWeb
) -> None:
    ref = f"page:{web.url}/pricing"
    first = Bot(make_settings(f"sqlite:///{tmp_path / 'a.db'}"), clock)
    second = Bot(make_settings(f"sqlite:///{tmp_path / 'b.db'}"), clock)
    try:
        web.set_page("/pricing", PAGE)
        await first.run(f'watch {ref} --select "#plans" --to slack:C0AAAAAAA')
        await first.run(f"watch {ref} --ignore 'Cancel' --ignore 'Pro' --to slack:C0BBBBBBB")
        await first.run(f"watch {ref} --to console")
        exported = watchlist.dumps(first.service.export_watchlist())
        entries = watchlist.loads(exported, "export.toml", "console")
        assert sorted((e.channels, e.select, e.ignore) for e in entries) == [
            (("console",), None, ()),
            (("slack:C0AAAAAAA",), "#plans", ()),
            (("slack:C0BBBBBBB",), None, ("Cancel", "Pro")),
        ]
        again = first.service.apply_watchlist(entries)
        assert all(line.startswith("kept ") for line in again), again

        assert len(second.service.apply_watchlist(entries)) == 3
        views = {s.channel: dict(s.options) for s, _t in second.store.list_watches()}
        assert views == {
            "console": {},
            "slack:C0AAAAAAA": {"select": "#plans"},
            "slack:C0BBBBBBB": {"ignore": ["Cancel", "Pro"]},
        }
        assert watchlist.dumps(second.service.export_watchlist()) == exported

        # The import takes no baseline; the first check takes one per view, from one request.
        await later(second)
        target = second.store.get_target(ref)
        assert target is not None
        snapshot = second.store.latest_snapshot(target)
        assert snapshot is not None and len(snapshot.facts["views"]) == 3
    finally:
        await first.close()
        await second.close()


# ------------------------------------------------------------------- migration 0003

changes_0002 = sa.table(
    "changes",
    sa.column("target_id", sa.Integer),
    sa.column("detected_at", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String),
    sa.column("severity", sa.String),
    sa.column("summary", sa.String),
)
snapshots_0002 = sa.table(
    "snapshots",
    sa.column("id", sa.Integer),
    sa.column("target_id", sa.Integer),
    sa.column("taken_at", sa.DateTime(timezone=True)),
    sa.column("digest", sa.String),
    sa.column("facts", sa.JSON),
    sa.column("evidence", sa.JSON),
)
targets_0002 = sa.table(
    "targets",
    sa.column("id", sa.Integer),
    sa.column("options", sa.JSON),
    sa.column("latest_snapshot_id", sa.Integer),
    sa.column("body_digest", sa.String),
)


async def test_migration_0003_keeps_every_subscriptions_behaviour(
    db_url: str, clock: Clock, web: FakeWeb
) -> None:
    """A database built at 0002 (a page watched by two channels through the target's
    select/ignore, a baseline, a recorded change; a Hub watch), upgraded: each channel keeps
    its settings and gets the target's view, the baseline is that view's version (so the
    next check compares with it, no new baseline), and the old change is in both
    channels' history."""
    ref = TargetRef("page", f"{web.url}/pricing")
    view = {"select": "#plans", "ignore": ["per seat"]}
    engine = create_engine(db_url)
    upgrade(engine, "0002")
    old = Store(engine)
    page, _ = old.ensure_target(ref, clock())
    hub, _ = old.ensure_target(TargetRef("hf", "acme/x"), clock())
    old.subscribe(page.id, "slack:C0AAAAAAA", clock(), options={"digest": "daily"})
    old.subscribe(page.id, "console", clock(), min_severity="notice")
    old.subscribe(hub.id, "console", clock())
    # What 0002's code extracted: ignore rules then cut only the matched text. Today they drop
    # the line, so the first check after the upgrade must take a new baseline, not alert.
    lines = ["Pro: $20 per month", "Team: $40 per month"]
    now = html_lines(PAGE.encode(), select="#plans", ignore=compile_ignore(["per seat"]))
    assert now == ["Pro: $20 per month"]
    with engine.begin() as c:
        snapshot_id = c.execute(
            snapshots_0002.insert()
            .values(
                target_id=page.id,
                taken_at=clock(),
                digest=facts_digest(pack(lines)),
                facts=pack(lines),
                evidence={},
            )
            .returning(snapshots_0002.c.id)
        ).scalar_one()
        c.execute(
            targets_0002.update()
            .where(targets_0002.c.id == page.id)
            .values(options=view, latest_snapshot_id=snapshot_id)
        )
        c.execute(
            changes_0002.insert().values(
                target_id=page.id,
                detected_at=clock(),
                kind="content",
                severity="notice",
                summary="Page text changed: earlier",
            )
        )

    upgrade(engine, "head")
    assert current_revision(engine) == head_revision()  # 0003 and every later migration
    engine.dispose()

    bot = Bot(make_settings(db_url), clock)
    try:
        subs = {s.channel: s for s, _t in bot.store.list_watches()}
        assert dict(subs["slack:C0AAAAAAA"].options) == {"digest": "daily", **view}
        assert dict(subs["console"].options) == view and subs["console"].min_severity == "notice"
        target = bot.store.get_target(str(ref))
        assert target is not None and dict(target.options) == {}
        snapshot = bot.store.latest_snapshot(target)
        assert snapshot is not None and snapshot.digest == facts_digest(snapshot.facts)
        for channel in subs:
            history = await in_channel(bot, f"history {ref}", channel)
            assert "Page text changed: earlier" in history, (channel, history)

        web.set_page("/pricing", PAGE.replace("Cancel any time.", "No refunds."))
        bot.clock.advance(hours=2)
        outcomes = (await bot.service.checker.check_due()).outcomes
        assert {o.ref: o.status for o in outcomes}[str(ref)] == "unchanged", (
            "outside the region both channels watched: no alert, no new baseline"
        )
        web.set_page("/pricing", PAGE.replace("$20", "$25"))
        bot.clock.advance(hours=2)
        await bot.service.checker.check_due()
        for channel in subs:
            [alert] = bot.store.deliveries_for(channel)
            assert "$25" in str(alert.payload)
    finally:
        await bot.close()

    downgrade = create_engine(db_url)
    upgrade_down(downgrade)
    with downgrade.connect() as c:
        options = c.execute(
            sa.select(targets_0002.c.options).where(targets_0002.c.id == page.id)
        ).scalar_one()
    assert options == view, "a downgrade gives the target its subscriptions' view back"
    downgrade.dispose()


def upgrade_down(engine: sa.Engine) -> None:
    from alembic import command

    from bot.store.migrate import alembic_config

    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0002")
