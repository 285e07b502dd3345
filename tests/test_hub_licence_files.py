"""Issue 13: a Hub repo's own licence file is watched, not only the card's id. The real
huggingface_hub client reads it from the fake Hub at the repo's commit; the texts are the real
Yi licence and Apache-2.0 files of ``corpus/licence-history/yi-model-card``."""

from __future__ import annotations

import pytest

from tests.conftest import Bot, corpus_path
from tests.fakes.hub import FakeHub

YI = "01-ai/Yi-34B"


def yi_text(which: str) -> str:
    name = {
        "yi": "MODEL_LICENSE_AGREEMENT.txt.2024-05-before-yi-community-license-2.1",
        "apache": "MODEL_LICENSE_AGREEMENT.txt.2024-05-30-after-apache-2.0",
    }[which]
    return corpus_path("licence-history", "yi-model-card", name).read_text(encoding="utf-8")


def publish_yi(hub: FakeHub, text: str) -> None:
    hub.set_repo(YI, license="other", license_name="yi-license", license_link="LICENSE")
    hub.set_file(YI, "LICENSE", text)


async def later(bot: Bot) -> tuple[int, str]:
    bot.clock.advance(hours=2)
    return await bot.cycle()


async def test_watch_reads_and_names_the_linked_licence_file(bot: Bot, hub: FakeHub) -> None:
    publish_yi(hub, yi_text("yi"))
    reply = await bot.run(f"watch hf:{YI}")
    assert "licence: yi-license (custom)" in reply
    assert "licence file: LICENSE, custom licence “Yi Series Models Community License" in reply
    assert await bot.cycle() == (0, "")


async def test_a_custom_licence_rewritten_under_the_same_name_is_reported(
    bot: Bot, hub: FakeHub
) -> None:
    publish_yi(hub, yi_text("yi"))
    await bot.run(f"watch hf:{YI}")
    edited = (
        yi_text("yi")
        .replace("Version: 2.1", "Version: 2.2")
        .replace(
            "for military or unlawful purposes", "for military, surveillance or unlawful purposes"
        )
    )
    hub.set_file(YI, "LICENSE", edited)

    sent, text = await later(bot)

    assert sent == 1 and "[NOTICE]" in text and f"Content changed — {YI}" in text
    assert "Licence text changed, still custom licence “Yi Series Models Community" in text
    assert "2.1 → 2.2" in text
    assert "{+military, surveillance+}" in text or "{+surveillance+}" in text
    assert f"{hub.url}/{YI}/blob/" in text and "/LICENSE" in text, "links the file as evidence"
    assert await later(bot) == (0, "")


async def test_the_file_now_reading_as_another_licence_is_said(bot: Bot, hub: FakeHub) -> None:
    publish_yi(hub, yi_text("yi"))
    await bot.run(f"watch hf:{YI}")
    hub.set_file(YI, "LICENSE", yi_text("apache"))
    sent, text = await later(bot)
    assert sent == 1
    assert "Licence file LICENSE now reads as Apache-2.0 (permissive)" in text
    assert "was custom licence “Yi Series Models Community License Agreement”" in text


async def test_copyright_year_only_is_silent(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo("acme/m", license="other", license_name="acme")
    hub.set_file("acme/m", "LICENSE", "Acme Model Licence\n\nCopyright 2023 Acme.\n\nUse it.\n")
    await bot.run("watch hf:acme/m")
    hub.set_file("acme/m", "LICENSE", "Acme Model Licence\n\nCopyright 2024 Acme.\n\nUse it.\n")
    assert await later(bot) == (0, "")


async def test_the_file_is_read_only_when_the_commit_changed(bot: Bot, hub: FakeHub) -> None:
    publish_yi(hub, yi_text("yi"))
    await bot.run(f"watch hf:{YI}")
    reads = hub.count(f"/{YI}/resolve/")
    assert reads >= 1
    assert await later(bot) == (0, "")
    assert await later(bot) == (0, "")
    assert hub.count(f"/{YI}/resolve/") == reads, "same sha: no file request"
    hub.set_repo(YI, license="other", license_name="yi-license", license_link="LICENSE")
    assert await later(bot) == (0, ""), "new commit, same file: nothing to say"
    assert hub.count(f"/{YI}/resolve/") > reads


@pytest.mark.parametrize("kind", ["model", "dataset"])
async def test_a_gated_licence_file_is_said_not_readable_and_the_watch_goes_on(
    bot: Bot, hub: FakeHub, kind: str
) -> None:
    repo = "meta-llama/Meta-Llama-3-8B"
    prefix = "" if kind == "model" else "datasets/"
    hub.set_repo(repo, repo_type=kind, license="other", license_name="llama3",
                 license_link="LICENSE", gated="manual")  # fmt: skip
    hub.set_file(repo, "LICENSE", "META LLAMA 3 COMMUNITY LICENSE AGREEMENT\n", repo_type=kind)
    reply = await bot.run(f"watch hf:{prefix}{repo}")
    assert "licence file not readable without access (LICENSE)" in reply
    hub.set_repo(repo, repo_type=kind, license="other", license_name="llama3",
                 license_link="LICENSE", gated="manual")  # fmt: skip
    assert await later(bot) == (0, "")
    listing = await bot.run("list")
    assert "failing" not in listing.lower()


async def test_a_permissive_card_without_a_link_reads_no_file(bot: Bot, hub: FakeHub) -> None:
    hub.set_repo("acme/mit", license="mit")
    await bot.run("watch hf:acme/mit")
    await later(bot)
    assert hub.count("/acme/mit/resolve/") == 0
