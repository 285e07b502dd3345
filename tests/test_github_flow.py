"""End to end for GitHub targets: the real source (aiohttp) against the fake GitHub API, the real
store and the real console adapter. The relicensings are the real LICENSE files from
``corpus/licence-history`` replayed in the order they happened."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.net import Limits
from bot.sources.github import GitHubSource
from tests.conftest import Bot, Clock, corpus_path, make_settings
from tests.fakes.github import FakeGitHub

TGI = "huggingface/text-generation-inference"


def licence_file(case: str, name: str) -> str:
    return corpus_path("licence-history", case, name).read_text(encoding="utf-8")


class Wall:
    """Wall-clock seconds that a test can move forward (GitHub's reset times are epochs)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(tokens=frozenset({"ghp_testtoken1234567890abcdefghij"})) as fake:
        yield fake


async def make_bot(
    github: FakeGitHub, clock: Clock, tmp_path: Path, **extra: Any
) -> AsyncIterator[Bot]:
    settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", github_api_url=github.url, **extra)
    b = Bot(settings, clock)
    yield b
    await b.close()


@pytest.fixture
async def bot(github: FakeGitHub, clock: Clock, tmp_path: Path) -> AsyncIterator[Bot]:
    async for b in make_bot(github, clock, tmp_path):
        yield b


async def later(bot: Bot, **delta: float) -> tuple[int, str]:
    bot.clock.advance(**delta)
    return await bot.cycle()


# ------------------------------------------------------------------- baseline and replay


async def test_watch_takes_a_baseline_and_says_what_it_saw(bot: Bot, github: FakeGitHub) -> None:
    github.set_repo(TGI)
    github.set_licence(
        TGI, licence_file("text-generation-inference", "LICENSE.2023-07-before-apache-2.0"),
        key="apache-2.0",
    )  # fmt: skip
    reply = await bot.run(f"watch https://github.com/{TGI}/blob/main/LICENSE")
    assert f"Watching github:{TGI} → console" in reply
    assert "licence: Apache-2.0 (permissive) · file: LICENSE · private: no · archived: no" in reply
    assert await later(bot, hours=2) == (0, ""), "the first sighting is a baseline, never an alert"


RELICENSINGS = [
    pytest.param(
        "hashicorp/terraform",
        ("terraform", "LICENSE.2023-08-before-mpl-2.0", "mpl-2.0", "LICENSE"),
        ("terraform", "LICENSE.2023-08-10-after-busl-1.1", "other", "LICENSE"),
        "MPL-2.0 (weak copyleft) → BUSL-1.1 (source-available) · more restrictive",
        id="terraform MPL-2.0 to BUSL-1.1",
    ),
    pytest.param(
        "hashicorp/vagrant",
        ("vagrant", "LICENSE.2023-08-before-mit", "mit", "LICENSE"),
        ("vagrant", "LICENSE.2023-08-10-after-busl-1.1", "other", "LICENSE"),
        "MIT (permissive) → BUSL-1.1 (source-available) · more restrictive",
        id="vagrant MIT to BUSL-1.1",
    ),
    pytest.param(
        "redis/redis",
        ("redis", "COPYING.2024-03-before-bsd-3-clause", "bsd-3-clause", "COPYING"),
        ("redis", "LICENSE.txt.2024-03-20-after-rsalv2-sspl", "other", "LICENSE.txt"),
        "BSD-3-Clause (permissive) → rsalv2 OR SSPL-1.0 (source-available) · more restrictive",
        id="redis BSD-3-Clause to RSALv2 or SSPLv1, file renamed",
    ),
    pytest.param(
        TGI,
        ("text-generation-inference", "LICENSE.2023-07-before-apache-2.0", "apache-2.0", "LICENSE"),
        ("text-generation-inference", "LICENSE.2023-07-28-after-hfoil-1.0", "other", "LICENSE"),
        "Apache-2.0 (permissive) → hfoil-1.0 (source-available) · more restrictive",
        id="text-generation-inference Apache-2.0 to HFOIL",
    ),
]


@pytest.mark.parametrize("repo, before, after, summary", RELICENSINGS)
async def test_real_relicensing_alerts_once_with_identity_category_and_direction(
    bot: Bot,
    github: FakeGitHub,
    repo: str,
    before: tuple[str, str, str, str],
    after: tuple[str, str, str, str],
    summary: str,
) -> None:
    github.set_repo(repo)
    github.set_licence(repo, licence_file(*before[:2]), key=before[2], path=before[3])
    await bot.run(f"watch github:{repo}")
    github.set_licence(repo, licence_file(*after[:2]), key=after[2], path=after[3])

    sent, text = await later(bot, hours=2)

    assert sent == 1
    assert f"[CRITICAL] Licence changed — {repo}" in text
    assert summary in text
    assert "commercial use now restricted" in text
    assert f"https://github.com/{repo}/blob/main/{after[3]}" in text, "links the licence file"
    if before[3] != after[3]:
        assert f"file {before[3]} → {after[3]}" in text
    assert await later(bot, hours=2) == (0, ""), "an unchanged repo is not reported again"


async def test_text_generation_inference_revert_alerts_as_a_reversal(
    bot: Bot, github: FakeGitHub
) -> None:
    case = "text-generation-inference"
    github.set_repo(TGI)
    github.set_licence(
        TGI, licence_file(case, "LICENSE.2023-07-before-apache-2.0"), key="apache-2.0"
    )
    await bot.run(f"watch github:{TGI}")
    github.set_licence(TGI, licence_file(case, "LICENSE.2023-07-28-after-hfoil-1.0"), key="other")
    assert (await later(bot, hours=2))[0] == 1
    github.set_licence(
        TGI, licence_file(case, "LICENSE.2024-04-08-after-apache-2.0"), key="apache-2.0"
    )

    sent, text = await later(bot, days=255)

    assert sent == 1
    assert f"Licence reverted — {TGI}" in text
    assert "hfoil-1.0 (source-available) → Apache-2.0 (permissive) · less restrictive" in text
    assert "reverted after 255 days" in text
    history = await bot.run(f"history github:{TGI}")
    assert history.count("Licence text:") == 2 and history.count("more restrictive") == 1


async def test_new_text_under_the_same_licence_is_a_content_change_with_a_diff(
    bot: Bot, github: FakeGitHub
) -> None:
    repo = "hashicorp/terraform"
    github.set_repo(repo)
    github.set_licence(
        repo, licence_file("terraform", "LICENSE.2023-08-10-after-busl-1.1"), key="other"
    )
    await bot.run(f"watch github:{repo}")

    github.set_licence(
        repo, licence_file("terraform", "LICENSE.2023-08-16-busl-1.1-param-edit"), key="other"
    )
    sent, text = await later(bot, hours=2)
    assert sent == 1
    assert "[NOTICE]" in text and f"Content changed — {repo}" in text
    assert "Licence text changed, still BUSL-1.1 (source-available): 1 line changed" in text
    assert "Licensed Work: {+Terraform 1.6.0.+} The Licensed Work is (c) 2023" in text
    assert "Licence changed" not in text

    github.set_licence(
        repo, licence_file("terraform", "LICENSE.2026-03-11-busl-1.1-licensor-ibm"), key="other"
    )
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "Licence text changed, still BUSL-1.1" in text
    assert "{+International Business Machines Corporation (IBM)+}" in text
    diff = await bot.run(f"diff github:{repo}")
    assert "-Licensor: HashiCorp, Inc." in diff
    assert "+Licensor: International Business Machines Corporation (IBM)" in diff


async def test_rewrapping_version_bumps_and_line_endings_are_not_changes(
    bot: Bot, github: FakeGitHub
) -> None:
    repo = "hashicorp/terraform"
    text = licence_file("terraform", "LICENSE.2023-11-07-busl-1.1-use-grant-rewritten")
    assert "Terraform 1.7.0-dev" in text
    github.set_repo(repo)
    github.set_licence(repo, text, key="other")
    await bot.run(f"watch github:{repo}")
    for noisy in (
        text.replace("Terraform 1.7.0-dev", "Terraform 1.7.0-alpha20231025"),  # every release
        text.replace("\n", "\r\n"),
        text.replace("Your \n                      use", "Your use\n                     "),
        text.replace("(c) 2023", "(c) 2024"),
    ):
        github.set_licence(repo, noisy, key="other")
        assert await later(bot, hours=2) == (0, "")


async def test_mit_rewritten_by_a_new_holder_is_text_not_a_licence_change(
    bot: Bot, github: FakeGitHub
) -> None:
    """Issue 13: only the copyright holder (and the title line) changed under MIT: info."""
    repo = "hashicorp/vagrant"
    github.set_repo(repo)
    github.set_licence(
        repo, licence_file("vagrant", "LICENSE.2022-11-before-mit-reformat"), key="mit"
    )
    await bot.run(f"watch github:{repo}")
    github.set_licence(repo, licence_file("vagrant", "LICENSE.2023-08-before-mit"), key="mit")
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "[INFO]" in text and "Content changed — hashicorp/vagrant" in text
    assert "still MIT (permissive)" in text and "Licence changed" not in text
    assert "copyright holder Mitchell Hashimoto → HashiCorp, Inc." in text
    assert "[-The MIT License-]" in text or "- The MIT License" in text


def busl(change_date: str = "2027-08-10", mau: str = "700 million") -> str:
    """Vagrant's real BUSL-1.1 text with a dated Change Date and a user threshold in its grant."""
    text = licence_file("vagrant", "LICENSE.2023-08-10-after-busl-1.1")
    text = text.replace(
        "Change Date:          Four years from the date the Licensed Work is published.",
        f"Change Date:          {change_date}",
    )
    return text.replace(
        "competitive with HashiCorp's products.",
        f"competitive with HashiCorp's products, or by more than {mau} monthly active users.",
    )


@pytest.mark.parametrize(
    ("edit", "shown"),
    [
        pytest.param({"change_date": "2031-08-10"}, "2027-08-10 → 2031-08-10", id="Change Date"),
        pytest.param({"mau": "100 million"}, "700 → 100", id="MAU threshold"),
    ],
)
async def test_a_changed_date_or_threshold_in_a_licence_is_reported(
    bot: Bot, github: FakeGitHub, edit: dict[str, str], shown: str
) -> None:
    """Issue 13: numbers in a licence are terms; masking them hid these edits for ever."""
    repo = "hashicorp/vagrant"
    github.set_repo(repo)
    github.set_licence(repo, busl(), key="other")
    await bot.run(f"watch github:{repo}")
    github.set_licence(repo, busl(**edit), key="other")

    sent, text = await later(bot, hours=2)

    assert sent == 1 and "[NOTICE]" in text
    assert "Licence text changed, still BUSL-1.1 (source-available): 1 line changed" in text
    assert shown in text
    assert await later(bot, hours=2) == (0, "")


async def test_busl_licensor_change_is_a_notice(bot: Bot, github: FakeGitHub) -> None:
    repo = "hashicorp/vagrant"
    github.set_repo(repo)
    github.set_licence(repo, busl(), key="other")
    await bot.run(f"watch github:{repo}")
    github.set_licence(
        repo, busl().replace("Licensor:             HashiCorp, Inc.", "Licensor:  IBM"), key="other"
    )
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "[NOTICE]" in text and "still BUSL-1.1" in text
    assert "Licensor: [-HashiCorp, Inc.-] {+IBM+}" in text or "{+IBM+}" in text


async def test_a_snapshot_from_before_the_upgrade_raises_no_alert_of_its_own(
    bot: Bot, github: FakeGitHub
) -> None:
    """A stored text compared by the old rules (numbers masked) is compared like with like
    once; the next edit is judged by the new rules."""
    import sqlalchemy as sa

    from bot.licences.full_text import RULES_KEY
    from bot.store.tables import snapshots

    repo = "hashicorp/vagrant"
    github.set_repo(repo)
    github.set_licence(repo, busl(), key="other")
    await bot.run(f"watch github:{repo}")
    with bot.store.engine.begin() as db:  # the row as the previous release wrote it
        for row in db.execute(sa.select(snapshots.c.id, snapshots.c.facts)).all():
            facts = {k: v for k, v in row.facts.items() if k != RULES_KEY}
            db.execute(snapshots.update().where(snapshots.c.id == row.id).values(facts=facts))

    github.set_licence(repo, busl(change_date="2031-08-10"), key="other")
    assert await later(bot, hours=2) == (0, ""), "upgrading alone says nothing"
    github.set_licence(repo, busl(change_date="2035-08-10"), key="other")
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "2031-08-10 → 2035-08-10" in text


async def test_unrecognised_custom_licence_is_named_by_its_first_heading(
    bot: Bot, github: FakeGitHub
) -> None:
    repo = "acme/engine"
    github.set_repo(repo)
    github.set_licence(repo, licence_file("vagrant", "LICENSE.2023-08-before-mit"), key="mit")
    await bot.run(f"watch github:{repo}")
    github.set_licence(
        repo, "# Acme Community Terms\n\nYou may read this code. Nothing else.\n", key="other"
    )
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "[WARNING]" in text and "Licence changed — acme/engine" in text
    assert "MIT (permissive) → custom licence “Acme Community Terms” · unknown" in text


# ------------------------------------------------------------------- repo state


async def test_archived_renamed_deleted_and_licence_removed(bot: Bot, github: FakeGitHub) -> None:
    repo = "acme/tool"
    github.set_repo(repo)
    github.set_licence(repo, licence_file("vagrant", "LICENSE.2023-08-before-mit"), key="mit")
    await bot.run(f"watch github:{repo}")

    github.set_repo(repo, archived=True)
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "public → archived: archived: read-only" in text

    github.rename(repo, "acme/tool-legacy")
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "moved: acme/tool is now acme/tool-legacy" in text

    github.remove_licence("acme/tool-legacy")
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "[CRITICAL] Licence changed" in text
    assert "MIT (permissive) → none declared · more restrictive" in text
    assert "licence removed: default copyright applies" in text

    github.delete("acme/tool-legacy")
    assert await later(bot, hours=2) == (0, ""), "one 404 is not enough to say it is gone"
    sent, text = await later(bot, hours=2)
    assert sent == 1 and "[CRITICAL]" in text and "deleted, or made private" in text


async def test_missing_repo_is_refused_and_nothing_is_stored(bot: Bot, github: FakeGitHub) -> None:
    reply = await bot.run("watch github:acme/nothing-here")
    assert "✗ github:acme/nothing-here: not found" in reply
    assert "set GITHUB_TOKEN for private repos" in reply and "Nothing was stored" in reply
    assert "Nothing is watched" in await bot.run("list")


# ------------------------------------------------------------------- politeness


async def test_checks_are_conditional_and_a_304_costs_nothing(bot: Bot, github: FakeGitHub) -> None:
    github.set_repo(TGI)
    github.set_licence(TGI, "MIT License\n\nPermission is hereby granted", key="mit")
    await bot.run(f"watch github:{TGI}")
    first = [h for h in github.requests if h.path.startswith("/repos/")]
    assert all("if-none-match" not in h.headers for h in first), "no empty validator, ever"
    used = github._limits["anon"].remaining

    bot.clock.advance(hours=2)
    result = await bot.service.checker.check_due()

    assert [o.status for o in result.outcomes] == ["not-modified"]
    again = [h for h in github.requests if h.path.startswith("/repos/")][len(first) :]
    assert len(again) == 2 and all(h.headers["if-none-match"].startswith('W/"') for h in again)
    assert github._limits["anon"].remaining == used, "304s do not count against the limit"
    assert all(h.headers["x-github-api-version"] == "2022-11-28" for h in again)
    assert all(h.headers["user-agent"].startswith("policybot/") for h in again)


async def test_token_is_sent_as_bearer_and_a_bad_one_is_a_clear_failure(
    github: FakeGitHub, clock: Clock, tmp_path: Path
) -> None:
    github.set_repo(TGI)
    async for bot in make_bot(
        github, clock, tmp_path, github_token="ghp_testtoken1234567890abcdefghij"
    ):
        await bot.run(f"watch github:{TGI}")
        assert github.requests[-1].headers["authorization"] == (
            "Bearer ghp_testtoken1234567890abcdefghij"
        )
    (tmp_path / "x").mkdir()
    async for bot in make_bot(github, clock, tmp_path / "x", github_token="ghp_wrong"):
        reply = await bot.run(f"watch github:{TGI}")
        assert "GitHub refused the token (HTTP 401): check GITHUB_TOKEN" in reply


async def test_rate_limit_pauses_the_host_until_reset_without_alerts(
    bot: Bot, github: FakeGitHub
) -> None:
    wall = Wall()
    github._clock = wall
    # One request at a time (POLICYBOT_GITHUB_CONCURRENCY=1) makes "nothing after the first
    # 403" exact; with N in flight, at most N can meet the limit before the pause.
    source = GitHubSource(github.url, None, Limits(), 1, wall_clock=wall)
    bot.service.sources["github"] = source  # type: ignore[index]  # swapped in place
    repos = ("acme/one", "acme/two", "acme/three")
    for repo in repos:
        github.set_repo(repo)
        github.set_licence(repo, "MIT License\n\nPermission is hereby granted", key="mit")
        await bot.run(f"watch github:{repo}")
    github.exhaust(reset_in=1800)
    before = len(github.requests)

    start = bot.clock.advance(hours=2)
    sent, text = await bot.cycle()

    assert (sent, text) == (0, "")
    assert len(github.requests) == before + 1, "after the first 403 the host is paused"
    for repo in repos:
        target = bot.store.get_target(f"github:{repo}")
        assert target is not None and target.last_error_reason == "rate-limited"
        assert target.next_check_at >= start + timedelta(seconds=1700)
        assert "set GITHUB_TOKEN" in (target.last_error or "")

    wall.offset += 1900
    bot.clock.advance(hours=1)
    assert await bot.cycle() == (0, "")
    target = bot.store.get_target("github:acme/one")
    assert target is not None and target.failures == 0


async def test_secondary_rate_limit_honours_retry_after(bot: Bot, github: FakeGitHub) -> None:
    github.set_repo(TGI)
    await bot.run(f"watch github:{TGI}")
    github.secondary_limit(retry_after=120, status=429)
    start = bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")
    target = bot.store.get_target(f"github:{TGI}")
    assert target is not None and target.last_error_reason == "rate-limited"
    assert target.next_check_at >= start + timedelta(seconds=120)


async def test_server_errors_fail_the_check_and_never_alert(bot: Bot, github: FakeGitHub) -> None:
    github.set_repo(TGI)
    github.set_licence(TGI, "MIT License\n\nPermission is hereby granted", key="mit")
    await bot.run(f"watch github:{TGI}")
    github.fail(TGI, 502)
    assert await later(bot, hours=2) == (0, "")
    target = bot.store.get_target(f"github:{TGI}")
    assert target is not None and target.last_error_reason == "http-502"
