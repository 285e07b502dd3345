"""End to end for Hub targets: the real huggingface_hub client against the fake Hub, the real
store, the real console adapter. Each test reads like what a user would check in the channel."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import Bot, corpus_path
from tests.fakes.hub import FakeHub

REPO = "acme/model"


async def test_watch_takes_a_baseline_and_says_what_it_saw(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo("meta-llama/Llama-2-7b-hf", license="llama2", gated="manual")
    reply = await bot.run("watch https://huggingface.co/meta-llama/Llama-2-7b-hf/tree/main")
    assert "Watching hf:meta-llama/Llama-2-7b-hf → console" in reply
    assert "licence: llama2 (proprietary-free)" in reply
    assert "gated: manual" in reply and "private: no" in reply and "disabled: no" in reply
    sent, text = await bot.cycle()
    assert (sent, text) == (0, ""), "the first sighting is a baseline, never an alert"


async def test_licence_change_alerts_once_with_categories_and_direction(
    bot: Bot, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="apache-2.0")
    await bot.run(f"watch hf:{REPO}")
    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    bot.clock.advance(hours=2)
    sent, text = await bot.cycle()
    assert sent == 1
    assert "[CRITICAL] Licence changed — acme/model" in text
    assert "Apache-2.0 (permissive) → hfoil-1.0 (source-available) · more restrictive" in text
    assert "commercial use now restricted" in text
    assert f"{hub.url}/{REPO}/commit/" in text, "the alert links the commit as evidence"
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, ""), "an unchanged repo is not reported again"


async def test_new_commit_without_licence_change_is_not_an_alert(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo(REPO, license="mit")
    await bot.run(f"watch hf:{REPO}")
    hub.set_repo(REPO, license="mit", extra={"downloads": 99999})  # new sha, same licence
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")


async def test_reverted_licence_is_reported_as_a_reversal(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo(REPO, license="apache-2.0")
    await bot.run(f"watch hf:{REPO}")
    hub.set_repo(REPO, license="other", license_name="hfoil-1.0")
    bot.clock.advance(hours=2)
    await bot.cycle()
    hub.set_repo(REPO, license="apache-2.0")
    bot.clock.advance(days=255)
    sent, text = await bot.cycle()
    assert sent == 1
    assert "Licence reverted — acme/model" in text
    assert "hfoil-1.0 (source-available) → Apache-2.0 (permissive) · less restrictive" in text
    assert "reverted after 255 days" in text


async def test_gated_then_private_needs_two_confirmations_then_restored(
    bot: Bot, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="mit")
    await bot.run(f"watch hf:{REPO}")

    hub.set_repo(REPO, license="mit", gated="manual")
    bot.clock.advance(hours=2)
    sent, text = await bot.cycle()
    assert sent == 1 and "[WARNING]" in text
    assert "public → gated (manual): now gated" in text

    hub.set_repo(REPO, license="mit", gated="manual", private=True)  # anonymous: 401
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, ""), "one 401 is not enough to say the repo is gone"
    bot.clock.advance(hours=2)
    sent, text = await bot.cycle()
    assert sent == 1 and "[CRITICAL]" in text
    assert "gated (manual) → unreachable: deleted, or made private" in text

    hub.set_repo(REPO, license="mit")
    bot.clock.advance(hours=2)
    sent, text = await bot.cycle()
    assert sent == 1 and "unreachable → public: restored" in text


async def test_a_single_404_between_successes_is_silent(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo(REPO, license="mit")
    await bot.run(f"watch hf:{REPO}")
    hub.remove(REPO, status=404)
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")
    hub.set_repo(REPO, license="mit")
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")
    target = bot.store.get_target(f"hf:{REPO}")
    assert target is not None and target.gone_streak == 0


async def test_disabled_repo_is_critical_and_restore_is_reported(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo(REPO, license="mit")
    await bot.run(f"watch hf:{REPO}")
    hub.disable(REPO)
    bot.clock.advance(hours=2)
    sent, text = await bot.cycle()
    assert sent == 1 and "[CRITICAL]" in text and "public → disabled" in text
    hub.set_repo(REPO, license="mit")
    bot.clock.advance(hours=2)
    sent, text = await bot.cycle()
    assert sent == 1 and "disabled → public: restored" in text


@pytest.mark.parametrize(
    "fault, reason",
    [
        ("500", "http-500"),
        ("429", "rate-limited"),
        ("timeout", "timeout"),
        ("garbage", "malformed"),
    ],
    ids=["upstream 500", "429 with Retry-After", "timeout", "garbage JSON"],
)
async def test_a_failed_fetch_is_a_recorded_failure_never_an_alert(
    bot: Bot, hub: FakeHub, fault: str, reason: str
) -> None:
    hub.set_repo(REPO, license="mit")
    await bot.run(f"watch hf:{REPO}")
    if fault == "500":
        hub.fail(REPO, 500)
    elif fault == "429":
        hub.fail(REPO, 429, headers={"Retry-After": "900"})
    elif fault == "timeout":
        hub.delay(REPO, 3.0)  # the bot's hub timeout is 2 s in tests
    else:
        hub.garbage(REPO)
    start = bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")
    target = bot.store.get_target(f"hf:{REPO}")
    assert target is not None
    assert (target.failures, target.last_error_reason) == (1, reason)
    assert len(bot.store.snapshots_of(target.id, 5)) == 1, "the snapshot did not move"
    if fault == "429":
        assert target.next_check_at >= start + timedelta(seconds=900)
    # The next good answer is compared with the old snapshot: still nothing to say.
    bot.clock.now = target.next_check_at
    assert await bot.cycle() == (0, "")
    after = bot.store.get_target(f"hf:{REPO}")
    assert after is not None and after.failures == 0


async def test_health_alert_once_after_repeated_failures_and_once_on_recovery(
    bot: Bot, hub: FakeHub
) -> None:
    hub.set_repo(REPO, license="mit")
    await bot.run(f"watch hf:{REPO}")
    hub.fail(REPO, 503, times=5)
    texts = []
    for _ in range(5):
        target = bot.store.get_target(f"hf:{REPO}")
        assert target is not None
        bot.clock.now = max(bot.clock.now + timedelta(hours=1), target.next_check_at)
        texts.append(await bot.cycle())
    assert [sent for sent, _ in texts] == [0, 0, 1, 0, 0]
    assert "Watch failing — acme/model" in texts[2][1]
    assert "the Hub answered HTTP 503 (3 checks in a row" in texts[2][1]
    target = bot.store.get_target(f"hf:{REPO}")
    assert target is not None
    bot.clock.now = target.next_check_at
    sent, text = await bot.cycle()
    assert sent == 1 and "Watch recovered — acme/model" in text
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")


async def test_one_fetch_per_target_however_many_channels(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo(REPO, license="mit")
    await bot.run(f"watch hf:{REPO}")
    await bot.run(f"watch hf:{REPO} --to webhook:{hub.url}/not-a-hook --min-severity critical")
    before = hub.count(f"/api/models/{REPO}")
    bot.clock.advance(hours=2)
    await bot.service.checker.check_due()
    assert hub.count(f"/api/models/{REPO}") == before + 1


async def test_min_severity_filters_per_subscription(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo(REPO, license="mit")
    await bot.run(f"watch hf:{REPO} --min-severity critical")
    hub.set_repo(REPO, license="bsd-3-clause")  # lateral: a notice
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")
    history = await bot.run(f"history hf:{REPO}")
    assert "MIT (permissive) → BSD-3-Clause (permissive) · lateral" in history


async def test_datasets_and_spaces(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo("HuggingFaceFW/fineweb", repo_type="dataset", license=["odc-by"])
    hub.set_repo("acme/demo", repo_type="space", license="mit")
    reply = await bot.run(
        "watch hf:datasets/HuggingFaceFW/fineweb https://huggingface.co/spaces/acme/demo"
    )
    assert (
        "hf:datasets/HuggingFaceFW/fineweb → console. Baseline: licence: ODC-By-1.0 (permissive)"
        in reply
    )
    assert "hf:spaces/acme/demo → console. Baseline: licence: MIT (permissive)" in reply
    hub.set_repo("HuggingFaceFW/fineweb", repo_type="dataset", license=["cc-by-nc-4.0"])
    bot.clock.advance(hours=2)
    sent, text = await bot.cycle()
    assert sent == 1 and "HuggingFaceFW/fineweb (Hugging Face dataset)" in text
    assert "→ CC-BY-NC-4.0 (non-commercial) · more restrictive" in text


async def test_watching_a_missing_repo_is_refused_and_stores_nothing(
    bot: Bot, hub: FakeHub
) -> None:
    reply = await bot.run("watch hf:acme/does-not-exist")
    assert "✗ hf:acme/does-not-exist: not found" in reply and "Nothing was stored" in reply
    assert "Nothing is watched" in await bot.run("list")


async def test_list_unwatch_and_diff(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo(REPO, license="mit")
    await bot.run(f"watch hf:{REPO}")
    hub.set_repo(REPO, license="agpl-3.0")
    bot.clock.advance(hours=2)
    await bot.cycle()
    listing = await bot.run("list")
    assert f"hf:{REPO} → console · ok" in listing
    diff = await bot.run(f"diff hf:{REPO}")
    assert "-licence: MIT (permissive)" in diff
    assert "+licence: AGPL-3.0-only (copyleft)" in diff
    assert "Stopped watching hf:acme/model in console" in await bot.run(f"unwatch hf:{REPO}")
    hub.set_repo(REPO, license="mit")
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, ""), "an unwatched target is no longer checked"


async def test_real_recorded_responses_same_sha_and_new_commit_are_quiet(
    bot: Bot, hub: FakeHub
) -> None:
    """Real Hub answers recorded months apart for the same repo must not look like changes."""
    for older, newer in [
        (
            "google-bert__bert-base-uncased.2024-04-09.json",
            "google-bert__bert-base-uncased.2025-01-22.json",
        ),
        (
            "HuggingFaceH4__zephyr-7b-beta.2024-03-14.json",
            "HuggingFaceH4__zephyr-7b-beta.2025-03-21.json",
        ),
        (
            "stabilityai__stable-diffusion-2-1.2024-04-09.json",
            "stabilityai__stable-diffusion-2-1.2025-01-22.json",
        ),
    ]:
        body = json.loads(corpus_path("hub-api", "models", older).read_text())
        hub.set_raw(body["id"], body)
        reply = await bot.run(f"watch hf:{body['id']}")
        assert "Baseline: licence:" in reply
        hub.set_raw(body["id"], json.loads(corpus_path("hub-api", "models", newer).read_text()))
    bot.clock.advance(hours=2)
    assert await bot.cycle() == (0, "")


async def test_real_gated_llama_card(bot: Bot, hub: FakeHub) -> None:
    body = json.loads(
        corpus_path(
            "hub-api", "models", "meta-llama__Llama-3.1-8B-Instruct.2025-03-21.json"
        ).read_text()
    )
    hub.set_raw(body["id"], body)
    reply = await bot.run("watch hf:meta-llama/Llama-3.1-8B-Instruct")
    assert "licence: llama3.1 (proprietary-free)" in reply
    assert "gated: manual" in reply
