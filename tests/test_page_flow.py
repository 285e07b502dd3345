"""End to end for page targets: the real page source (aiohttp through bot.net) against a local
web server, the real store and console adapter: conditional GET, select/ignore re-baselining,
health alerts with typed reasons, and the SSRF gate as a user meets it in chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.commands.watchlist import WatchEntry
from bot.domain.model import Severity
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.web import FakeWeb

PAGE = """<html><body><nav>Home · Pricing</nav><main>
<h1>Pricing</h1>
<section id="plans"><p>Pro: $20 per month</p><p>Team: $40 per seat per month</p></section>
<section id="terms"><p>Cancel any time.</p></section>
</main><footer>© 2026</footer></body></html>"""


async def new_bot(clock: Clock, tmp_path: Path, **extra: Any) -> Bot:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", **extra), clock)


@pytest.fixture
async def bot(clock: Clock, tmp_path: Path) -> AsyncIterator[Bot]:
    b = await new_bot(clock, tmp_path, http_total_timeout=1.0, http_max_bytes=1_000_000)
    yield b
    await b.close()


async def later(bot: Bot, **delta: float) -> tuple[int, str]:
    bot.clock.advance(**delta)
    return await bot.cycle()


async def until_due(bot: Bot, ref: str) -> tuple[int, str]:
    """Run the next check of ``ref`` whenever it is due (failures back off)."""
    target = bot.store.get_target(ref)
    assert target is not None
    bot.clock.now = max(bot.clock.now + timedelta(minutes=1), target.next_check_at)
    return await bot.cycle()


def own_options(bot: Bot, ref: str, channel: str = "console") -> dict[str, object]:
    """The subscription's options: a page's select/ignore are the channel's, not the target's."""
    (sub,) = [s for s, t in bot.store.list_watches(channel) if t.ref == ref]
    return dict(sub.options)


# ------------------------------------------------------------------- watching


async def test_watch_takes_a_baseline_of_the_main_text(bot: Bot, web: FakeWeb) -> None:
    web.set_page("/pricing", PAGE)
    reply = await bot.run(f"watch page:{web.url}/pricing")
    assert f"Watching page:{web.url}/pricing → console" in reply
    assert "Baseline: 4 lines of text, starting “Pricing”" in reply
    assert await later(bot, hours=2) == (0, "")
    diff = await bot.run(f"diff page:{web.url}/pricing")
    assert "only its baseline" in diff


async def test_conditional_get_sends_back_exactly_what_the_server_gave(
    bot: Bot, web: FakeWeb
) -> None:
    web.set_page("/pricing", PAGE)
    await bot.run(f"watch page:{web.url}/pricing")
    first = web.hits("/pricing")[-1].headers
    assert "if-none-match" not in first and "if-modified-since" not in first

    bot.clock.advance(hours=2)
    outcome = (await bot.service.checker.check_due()).outcomes
    assert [o.status for o in outcome] == ["not-modified"]
    second = web.hits("/pricing")[-1].headers
    assert second["if-none-match"].startswith('"') and len(second["if-none-match"]) > 2
    assert second["if-modified-since"].endswith(" GMT")


@pytest.mark.parametrize("etag, last_modified", [(False, True), (True, False), (False, False)])
async def test_an_absent_validator_is_never_sent_empty(
    bot: Bot, web: FakeWeb, etag: bool, last_modified: bool
) -> None:
    web.set_page("/p", PAGE, etag=etag, last_modified=last_modified)
    await bot.run(f"watch page:{web.url}/p")
    await later(bot, hours=2)
    sent = web.hits("/p")[-1].headers
    assert ("if-none-match" in sent) is etag
    assert ("if-modified-since" in sent) is last_modified
    assert all(value.strip() for value in sent.values())


async def test_same_bytes_under_a_new_etag_are_not_parsed_again(bot: Bot, web: FakeWeb) -> None:
    web.set_page("/p", PAGE, etag='"node-a"')
    await bot.run(f"watch page:{web.url}/p")
    web.set_page("/p", PAGE, etag='"node-b"')  # another server of the cluster
    bot.clock.advance(hours=2)
    outcome = (await bot.service.checker.check_due()).outcomes
    assert [o.status for o in outcome] == ["not-modified"]


async def test_changing_select_rebaselines_silently(bot: Bot, web: FakeWeb) -> None:
    ref = f"page:{web.url}/pricing"
    web.set_page("/pricing", PAGE)
    await bot.run(f'watch {ref} --select "#plans"')
    web.set_page("/pricing", PAGE.replace("Cancel any time.", "No refunds."))
    assert await later(bot, hours=2) == (0, ""), "outside the selected region"

    reply = await bot.run(f'watch {ref} --select "#terms"')
    assert "Select/ignore changed: new baseline, no alert for this." in reply
    assert "Baseline: 1 line of text, starting “No refunds.”" in reply
    assert await later(bot, hours=2) == (0, "")
    assert own_options(bot, ref) == {"select": "#terms"}

    web.set_page("/pricing", PAGE.replace("Cancel any time.", "No refunds, ever."))
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "- No [-refunds.-]" in text and "+ No {+refunds, ever.+}" in text

    reply = await bot.run(f'watch {ref} --ignore "^Footnote"')
    assert "new baseline" in reply
    assert own_options(bot, ref) == {"select": "#terms", "ignore": ["^Footnote"]}
    assert await later(bot, hours=2) == (0, "")
    again = await bot.run(f"watch {ref}")
    assert "new baseline" not in again, "a watch without --select/--ignore keeps them"


async def test_bad_selector_and_options_on_other_kinds_are_refused(bot: Bot, web: FakeWeb) -> None:
    reply = await bot.run(f'watch page:{web.url}/p --select "div[["')
    assert "is not a valid CSS selector" in reply
    assert "Nothing is watched" in await bot.run("list")
    reply = await bot.run('watch github:acme/x --select "main"')
    assert "--select and --ignore apply to page: targets only" in reply


async def test_watch_list_entries_carry_select_and_ignore(bot: Bot, web: FakeWeb) -> None:
    web.set_page("/pricing", PAGE)
    entry = WatchEntry(
        f"page:{web.url}/pricing", ("console",), Severity.INFO, "#plans", ("per seat",), ()
    )
    assert bot.service.apply_watchlist([entry]) == [f"added page:{web.url}/pricing → console"]
    assert own_options(bot, f"page:{web.url}/pricing") == {
        "select": "#plans",
        "ignore": ["per seat"],
    }


# ------------------------------------------------------------------- health


async def test_selector_that_stops_matching_says_so_once_then_recovers(
    bot: Bot, web: FakeWeb
) -> None:
    ref = f"page:{web.url}/pricing"
    web.set_page("/pricing", PAGE)
    await bot.run(f'watch {ref} --select "#plans"')
    web.set_page("/pricing", PAGE.replace('id="plans"', 'id="offers"'))
    results = [await until_due(bot, ref) for _ in range(4)]
    assert [sent for sent, _ in results] == [0, 0, 1, 0]
    assert "Watch failing — " + ref in results[2][1]
    assert "the selector '#plans' matches nothing on the page (3 checks in a row" in results[2][1]

    web.set_page("/pricing", PAGE)
    sent, text = await until_due(bot, ref)
    assert sent == 1 and "Watch recovered — " + ref in text
    assert await later(bot, hours=2) == (0, "")


async def test_bot_block_403_is_one_health_alert_never_a_change(bot: Bot, web: FakeWeb) -> None:
    ref = f"page:{web.url}/pricing"
    web.set_page("/pricing", PAGE)
    await bot.run(f"watch {ref}")
    web.status("/pricing", 403, b"<h1>Access denied</h1><p>Ray ID: 8f2c</p>")
    sent = [await until_due(bot, ref) for _ in range(5)]
    assert [s for s, _ in sent] == [0, 0, 1, 0, 0]
    assert "the site refused us (HTTP 403): it may block bots" in sent[2][1]
    web.set_page("/pricing", PAGE)
    count, text = await until_due(bot, ref)
    assert count == 1 and "Watch recovered" in text and "Content changed" not in text


FAULTS = [
    ("404", "not-found", "the page is not there (HTTP 404)"),
    ("500", "http-500", "the site answered HTTP 500"),
    ("slow-loris", "timeout", "no answer from"),
    ("huge", "too-large", "is larger than 1000000 bytes"),
    ("huge-announced", "too-large", "is larger than 1000000 bytes"),
    ("gzip-bomb", "too-large", "is larger than 1000000 bytes"),
    ("redirect-loop", "redirects", "more than 5 redirects"),
    ("redirect-to-file", "unsafe-url", "only http:// and https:// URLs are allowed"),
    ("pdf", "not-a-page", "serves application/pdf, not a web page"),
    ("empty", "no-text", "has no text"),
]


@pytest.mark.parametrize("fault, reason, message", FAULTS, ids=[f[0] for f in FAULTS])
async def test_a_failed_fetch_is_a_typed_failure_never_an_alert(
    bot: Bot, web: FakeWeb, fault: str, reason: str, message: str
) -> None:
    ref = f"page:{web.url}/p"
    web.set_page("/p", PAGE)
    await bot.run(f"watch {ref}")
    if fault in ("404", "500"):
        web.status("/p", int(fault))
    elif fault == "slow-loris":
        web.slow("/p", interval=0.1)
    elif fault.startswith("huge"):
        web.huge("/p", 3_000_000, announce=fault == "huge-announced")
    elif fault == "gzip-bomb":
        web.gzip_bomb("/p", decoded_size=64 * 2**20)
    elif fault == "redirect-loop":
        web.redirect("/p", "/q")
        web.redirect("/q", "/p")
    elif fault == "redirect-to-file":
        web.redirect("/p", "file:///etc/passwd")
    elif fault == "pdf":
        web.set_page("/p", b"%PDF-1.7 ...", content_type="application/pdf")
    else:
        web.set_page("/p", "<html><body><main><script>app()</script></main></body></html>")
    assert await later(bot, hours=2) == (0, "")
    target = bot.store.get_target(ref)
    assert target is not None
    assert (target.failures, target.last_error_reason) == (1, reason)
    assert message in (target.last_error or "")
    assert len(bot.store.snapshots_of(target.id, 5)) == 1, "the snapshot did not move"


async def test_refused_connection_and_dns_failure_have_their_own_reasons(
    bot: Bot, web: FakeWeb
) -> None:
    async with FakeWeb() as other:
        other.set_page("/p", PAGE)
        await bot.run(f"watch page:{other.url}/p")
        closed = other.url
    assert await later(bot, hours=2) == (0, "")
    target = bot.store.get_target(f"page:{closed}/p")
    assert target is not None and target.last_error_reason == "refused"
    assert "refused the connection" in (target.last_error or "")

    reply = await bot.run("watch page:http://no-such-host.invalid/pricing")
    assert "does not resolve (DNS)" in reply
    target = bot.store.get_target("page:http://no-such-host.invalid/pricing")
    assert target is not None and target.last_error_reason == "dns"


# ------------------------------------------------------------------- the SSRF gate

FORBIDDEN = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "page:http://[fd00:ec2::254]/latest/meta-data/",
    "page:http://[::ffff:169.254.169.254]/",
    "page:http://2130706433/",
    "page:http://0x7f.1/",
    "page:http://127.1/",
    "page:http://\uff11\uff12\uff17.0.0.1/",  # full-width digits: aiohttp dials 127.0.0.1
    "page:http://100.64.0.1/",
    "page:http://10.0.0.5/admin",
    "page:http://[::1]/",
    "page:http://0.0.0.0/",
    "page:http://user:secret@example.com/",
    "page:http://example.com\\@127.0.0.1/",
]


@pytest.mark.parametrize("ref", FORBIDDEN)
async def test_forbidden_urls_are_refused_in_chat_and_nothing_is_stored(
    clock: Clock, tmp_path: Path, ref: str
) -> None:
    bot = await new_bot(clock, tmp_path, allow_private_urls=False)
    try:
        reply = await bot.run(f"watch {ref}")
        assert reply.startswith("✗ refused"), reply
        assert "Nothing is watched" in await bot.run("list")
        assert bot.store.delivery_counts() == {}
    finally:
        await bot.close()


async def test_a_name_that_resolves_to_loopback_is_refused_at_the_first_fetch(
    clock: Clock, tmp_path: Path, web: FakeWeb
) -> None:
    web.set_page("/p", PAGE)
    bot = await new_bot(clock, tmp_path, allow_private_urls=False)
    try:
        reply = await bot.run(f"watch page:http://localhost:{web.port}/p")
        assert "refused" in reply and "loopback address" in reply
        assert "Nothing was stored" in reply
        assert "Nothing is watched" in await bot.run("list")
        assert web.count("/p") == 0, "no byte was sent to the forbidden address"
    finally:
        await bot.close()


async def test_allowlisted_intranet_address_works_but_redirect_hops_are_still_checked(
    clock: Clock, tmp_path: Path, web: FakeWeb
) -> None:
    bot = await new_bot(
        clock, tmp_path, allow_private_urls=False, private_url_allowlist="127.0.0.1/32"
    )
    try:
        web.set_page("/p", PAGE)
        reply = await bot.run(f"watch page:{web.url}/p")
        assert "Baseline:" in reply
        web.redirect("/p", f"http://127.0.0.2:{web.port}/p")  # loopback, not allowlisted
        assert await later(bot, hours=2) == (0, "")
        target = bot.store.get_target(f"page:{web.url}/p")
        assert target is not None and target.last_error_reason == "unsafe-url"
        assert "loopback address 127.0.0.2" in (target.last_error or "")
    finally:
        await bot.close()
