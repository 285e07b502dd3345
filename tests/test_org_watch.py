"""Whole-organisation watches end to end: ``hf:org/<owner>`` against the fake Hub's paginated
``?author=`` listings, ``github:org/<owner>`` against the fake GitHub's ``/orgs/{org}/repos``,
with the real store and the real console adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.errors import InvalidTarget
from bot.domain.model import TargetRef
from bot.domain.refs import parse_target
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.github import FakeGitHub
from tests.fakes.hub import FakeHub

LICENCES = ["apache-2.0", "mit", "cc-by-nc-4.0", "llama3.1"]


def populate(hub: FakeHub, models: int) -> None:
    for i in range(models):
        hub.set_repo(
            f"big-org/model-{i:04d}",
            license=LICENCES[i % len(LICENCES)],
            gated="manual" if i % 10 == 9 else False,
        )
    hub.set_repo("big-org/corpus", repo_type="dataset", license=["cc-by-4.0", "mit"])
    hub.set_repo("big-org/demo", repo_type="space", license="apache-2.0")
    hub.set_repo("someone-else/model", license="mit")  # another author: never listed


async def later(bot: Bot) -> tuple[int, str]:
    bot.clock.advance(hours=2)
    return await bot.cycle()


def test_org_references_parse_to_their_own_kinds() -> None:
    assert parse_target("hf:org/big-org") == TargetRef("hf-org", "big-org")
    assert parse_target("hf-org:big-org") == TargetRef("hf-org", "big-org")  # read back
    assert parse_target("github:org/hashicorp") == TargetRef("github-org", "hashicorp")
    assert parse_target("https://github.com/orgs/hashicorp") == TargetRef("github-org", "hashicorp")
    assert parse_target("hf:meta-llama/Llama-2-7b-hf") == TargetRef(
        "hf", "meta-llama/Llama-2-7b-hf"
    )
    for bad in ("hf:org/", "hf:org/a/b", "github:org/a/b", "hf:org/..x"):
        with pytest.raises(InvalidTarget, match="org/<owner>"):
            parse_target(bad)


async def test_a_thousand_repo_org_costs_a_handful_of_requests_and_alerts_once(
    hub: FakeHub, bot: Bot
) -> None:
    populate(hub, 1000)
    reply = await bot.run("watch hf:org/big-org")
    assert "Watching hf-org:big-org → console" in reply
    assert "1,002 repos (1 datasets, 1,000 models, 1 spaces)" in reply
    assert "100 gated" in reply
    # The baseline listed everything in pages of 100, asking only for the needed fields.
    listings = [
        r for r in hub.requests if r.path in ("/api/models", "/api/datasets", "/api/spaces")
    ]
    assert len(listings) == len(hub.requests) == 12  # 10 model pages + 1 dataset + 1 space
    assert all(r.query_values("author") == ["big-org"] for r in listings)
    first = next(r for r in listings if r.path == "/api/models")
    assert first.query_values("expand") == ["cardData", "gated", "private", "disabled", "tags"]
    assert await later(bot) == (0, "")  # nothing changed: no alert

    hub.set_repo("big-org/model-0000", license="llama3.1")  # apache → llama: critical
    hub.set_repo("big-org/model-0001", license="mit", gated="auto")  # now gated
    hub.set_repo("big-org/brand-new", license="other", license_name="big-licence")
    hub.remove("big-org/model-0002")
    hub.set_repo("big-org/corpus", repo_type="dataset", license="cc-by-nc-4.0")
    before = len(hub.requests)
    sent, text = await later(bot)
    assert len(hub.requests) - before == 12
    assert sent == 1 and text.count("hf-org:big-org") == 1  # one alert for the whole check
    assert text.startswith("[CRITICAL] Licence and access changed — hf-org:big-org")
    assert "big-org/model-0000: Apache-2.0 (permissive) → llama3.1" in text
    assert "commercial use now restricted" in text
    assert "big-org/corpus (dataset): CC-BY-4.0 (permissive) + MIT" in text
    assert "big-org/model-0001: public → gated (auto)" in text
    assert "new: big-org/brand-new (big-licence" in text
    assert "no longer listed: big-org/model-0002" in text
    assert "model-0003" not in text and "someone-else" not in text
    assert await later(bot) == (0, "")  # the new state is the baseline now


async def test_a_mass_change_is_one_grouped_line_with_counts(hub: FakeHub, bot: Bot) -> None:
    populate(hub, 120)
    await bot.run("watch hf:org/big-org")
    for i in range(40):  # 40 models relicensed at once
        hub.set_repo(f"big-org/model-{i:04d}", license="cc-by-nc-4.0", gated=False)
    for i in range(200, 215):  # 15 new repos
        hub.set_repo(f"big-org/model-{i:04d}", license="mit")
    sent, text = await later(bot)
    assert sent == 1
    lines = text.splitlines()
    assert len(lines) < 12, text
    licence_line = next(line for line in lines if "licence changes" in line).strip()
    # 40 repos relicensed, of which 10 were already cc-by-nc-4.0: 30 changes; the 20 that were
    # permissive became more restrictive (critical), the 10 llama ones moved laterally.
    assert licence_line.startswith("30 licence changes (20 critical, 10 notice): ")
    assert "big-org/model-0000 → CC-BY-NC-4.0 (non-commercial)" in licence_line
    assert licence_line.endswith("; and 25 more")
    new_line = next(line for line in lines if "new repositories" in line).strip()
    assert new_line.startswith("15 new repositories (15 notice): big-org/model-0200; ")
    assert new_line.endswith("and 10 more")
    # 4 of the 40 were gated and are not any more: under the grouping limit, one line each.
    assert sum("no longer gated" in line for line in lines) == 4


async def test_org_listing_failure_is_a_failed_check_not_removed_repos(
    hub: FakeHub, bot: Bot
) -> None:
    populate(hub, 150)
    await bot.run("watch hf:org/big-org")
    # A refused listing (400 is not retried by the client) and a cut-off one: each is a
    # failed check, never "every repo was removed".
    hub.fail("big-org/*", 400)
    bot.clock.advance(hours=2)
    result = await bot.service.checker.check_due()
    assert [(o.status, o.reason) for o in result.outcomes] == [("failed", "http-400")]
    hub.garbage("big-org/*", repo_type="dataset")
    bot.clock.advance(hours=2)
    result = await bot.service.checker.check_due()
    assert [(o.status, o.reason) for o in result.outcomes] == [("failed", "malformed")]
    assert (await bot.service.dispatcher.flush()).sent == 0
    assert bot.out.getvalue() == ""
    hub.set_repo("big-org/model-0005", license="cc-by-nc-4.0")  # then a real change is heard
    sent, text = await later(bot)
    assert sent == 1 and "big-org/model-0005" in text and "no longer listed" not in text


async def test_unknown_author_is_refused_and_nothing_stored(hub: FakeHub, bot: Bot) -> None:
    reply = await bot.run("watch hf:org/nobody-here")
    assert "✗ hf-org:nobody-here: not found" in reply
    assert bot.store.get_target("hf-org:nobody-here") is None


# -- GitHub organisations ------------------------------------------------------------------


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub() as fake:
        yield fake


@pytest.fixture
async def gh_bot(github: FakeGitHub, clock: Clock, tmp_path: Path) -> AsyncIterator[Bot]:
    b = Bot(make_settings(f"sqlite:///{tmp_path / 'gh.db'}", github_api_url=github.url), clock)
    yield b
    await b.close()


async def test_github_org_watch_pages_through_and_alerts_on_relicensing(
    github: FakeGitHub, gh_bot: Bot
) -> None:
    for i in range(250):
        github.set_repo(f"hashicorp/repo-{i:03d}")
        github.set_licence(f"hashicorp/repo-{i:03d}", "MPL text", key="mpl-2.0")
    github.set_repo("hashicorp/secret", private=True)
    github.set_repo("other/thing")
    reply = await gh_bot.run("watch github:org/hashicorp")
    assert "Watching github-org:hashicorp → console" in reply
    assert "250 repos · licences: 250 MPL-2.0" in reply
    pages = [h for h in github.requests if "/repos" in h.path and "/repos/" not in h.path]
    assert [h.path for h in pages] == [
        "/orgs/hashicorp/repos",
        f"/organizations/{github.org_id('hashicorp')}/repos",
        f"/organizations/{github.org_id('hashicorp')}/repos",
    ]
    assert len(github.requests) == 3  # no per-repo calls

    github.set_licence("hashicorp/repo-007", "BUSL text", key="other")
    github.set_licence("hashicorp/repo-123", "Apache text", key="apache-2.0")
    github.set_repo("hashicorp/repo-200", archived=True)
    github.delete("hashicorp/repo-201")
    github.set_repo("hashicorp/fresh")
    gh_bot.clock.advance(hours=2)
    sent, text = await gh_bot.cycle()
    assert sent == 1
    assert text.startswith("[WARNING]  Licence and access changed — github-org:hashicorp")
    assert "hashicorp/repo-007: MPL-2.0 (weak copyleft) → Other (custom) · unknown" in text
    assert "hashicorp/repo-123: MPL-2.0 (weak copyleft) → Apache-2.0 (permissive)" in text
    assert "hashicorp/repo-200: public → archived" in text
    assert "no longer listed: hashicorp/repo-201" in text
    assert "new: hashicorp/fresh (none declared)" in text
    assert "secret" not in text and "other/thing" not in text


async def test_github_org_rate_limit_is_a_failed_check_without_alert(
    github: FakeGitHub, gh_bot: Bot
) -> None:
    github.set_repo("small/a")
    await gh_bot.run("watch github:org/small")
    github.exhaust(reset_in=600)
    gh_bot.clock.advance(hours=2)
    result = await gh_bot.service.checker.check_due()
    assert [(o.status, o.reason) for o in result.outcomes] == [("failed", "rate-limited")]
    assert (await gh_bot.service.dispatcher.flush()).sent == 0


async def test_unknown_github_org_is_refused(github: FakeGitHub, gh_bot: Bot) -> None:
    reply = await gh_bot.run("watch github:org/nobody")
    assert "✗ github-org:nobody: not found" in reply


async def test_an_org_that_lists_nothing_any_more_is_confirmed_then_one_alert(
    hub: FakeHub, bot: Bot
) -> None:
    hub.set_repo("small-org/only", license="mit")
    await bot.run("watch hf:org/small-org")
    hub.remove("small-org/only")
    assert await later(bot) == (0, "")  # the first empty listing is only a suspicion
    sent, text = await later(bot)
    assert sent == 1
    assert "[CRITICAL]" in text and "no repositories listed any more" in text
    assert await later(bot) == (0, "")  # said once
