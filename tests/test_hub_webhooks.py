"""Hub webhooks end to end: the real ``policybot run`` loop with its ops HTTP server, the fake
Hub, the real store and console adapter. Payloads are built from the Hub docs' own fragments
(``corpus/hub-api/webhooks``)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.domain.model import TargetRef
from bot.runtime.hub_webhook_payload import BadPayload, parse_event, secret_matches, targets_for
from bot.runtime.runner import run_forever
from tests.conftest import Bot, Clock, corpus_path, make_settings
from tests.fakes.hub import FakeHub

SECRET = "s3cret-shared-with-the-hub"


def fragment(name: str) -> dict[str, Any]:
    """A docs fragment (``"repo": {...}``) as a dict; JSONC comments dropped."""
    text = corpus_path("hub-api", "webhooks", name).read_text(encoding="utf-8")
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M).strip().rstrip(",")
    data: dict[str, Any] = json.loads(text if text.startswith("{") else "{" + text + "}")
    return data


def payload(scope: str, repo_type: str, name: str, action: str = "update") -> bytes:
    """A Hub call as the docs show it, for our repo: event + repo + updatedRefs + webhook."""
    repo = fragment("hub-docs.fragment.repo.json-fragment")["repo"]
    plural = {"model": ""}.get(repo_type, f"{repo_type}s/")
    repo |= {
        "type": repo_type,
        "name": name,
        "url": {
            "web": f"https://huggingface.co/{plural}{name}",
            "api": f"https://huggingface.co/api/{repo_type}s/{name}",
        },
    }
    body = {"event": {"action": action, "scope": scope}, "repo": repo}
    body |= fragment("hub-docs.fragment.updatedRefs.json-fragment")
    body["webhook"] = {"id": "6390e855e30d9209411de93b", "version": 3}
    return json.dumps(body).encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def nothing_else_started(live: Running, hub: FakeHub) -> None:
    """A barrier instead of a sleep: post a valid event for the watched dataset and wait until
    its check is recorded. A check that an earlier request had (wrongly) started was started
    first and has reached the Hub by then; the wait fails the test if the barrier never
    completes."""
    before = hub.count("/api/datasets/acme/data")
    now = live.bot.clock.advance(seconds=1)
    status, body = await live.post(payload("repo.config", "dataset", "acme/data"))
    assert (status, body) == (200, {"ok": True, "checking": 1})

    def recorded() -> bool:
        data = live.bot.store.get_target("hf:datasets/acme/data")
        return data is not None and data.last_checked_at == now

    assert await wait_for(recorded), "the barrier check of acme/data never completed"
    assert hub.count("/api/datasets/acme/data") > before


async def wait_for(predicate: Any, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return False


class Running:
    """A bot inside ``run_forever`` with its HTTP server on a free port."""

    def __init__(self, bot: Bot, port: int) -> None:
        self.bot = bot
        self.url = f"http://127.0.0.1:{port}/webhooks/huggingface"

    async def post(
        self, body: bytes, secret: str | None = SECRET, query: str = ""
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Webhook-Secret"] = secret
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url + query, data=body, headers=headers) as resp,
        ):
            return resp.status, await resp.json(content_type=None)


async def running(hub: FakeHub, tmp_path: Path, **extra: object) -> AsyncIterator[Running]:
    port = _free_port()
    settings = make_settings(
        f"sqlite:///{tmp_path / 'w.db'}", hub.url, tick_seconds=3600, http_port=port, **extra
    )
    bot = Bot(settings, Clock())
    stop = asyncio.Event()
    task: asyncio.Task[None] | None = None
    try:
        hub.set_repo("acme/model", license="apache-2.0")
        hub.set_repo("acme/data", repo_type="dataset", license="mit")
        assert "Watching" in await bot.run("watch hf:acme/model")
        assert "Watching" in await bot.run("watch hf:datasets/acme/data")
        task = asyncio.create_task(run_forever(bot.service, settings, stop))
        async with aiohttp.ClientSession() as http:  # the server is up when /healthz answers

            async def up() -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        return resp.status in (200, 503)
                except aiohttp.ClientError:
                    return False

            for _ in range(500):
                if await up():
                    break
                await asyncio.sleep(0.02)
            else:
                pytest.fail("the ops HTTP server never answered /healthz")
        yield Running(bot, port)
    finally:
        stop.set()
        if task is not None:
            await asyncio.wait_for(task, 10)
        await bot.close()


@pytest.fixture
async def live(hub: FakeHub, tmp_path: Path) -> AsyncIterator[Running]:
    async for r in running(hub, tmp_path, hf_webhook_secret=SECRET):
        yield r


async def test_right_secret_checks_the_repo_at_once_and_alerts(hub: FakeHub, live: Running) -> None:
    hub.set_repo("acme/model", license="llama3")  # a README commit on the Hub...
    sent_at = time.monotonic()
    status, body = await live.post(payload("repo.content", "model", "acme/model"))
    answered = time.monotonic() - sent_at
    assert (status, body) == (200, {"ok": True, "checking": 1})
    # ...is heard long before the hourly poll: the alert reaches the console.
    assert await wait_for(lambda: "Licence changed — acme/model" in live.bot.out.getvalue())
    latency = time.monotonic() - sent_at
    print(f"webhook answered in {answered * 1000:.0f} ms; alert printed {latency:.2f} s after")
    text = live.bot.out.getvalue()
    assert text.startswith("[CRITICAL] Licence changed — acme/model")
    assert text.count("Licence changed") == 1
    # A gating flip arrives as a repo.config event with an empty updatedConfig: re-read too.
    hub.set_repo("acme/data", repo_type="dataset", license="mit", gated="manual")
    status, _ = await live.post(payload("repo.config", "dataset", "acme/data"), query="")
    assert status == 200
    assert await wait_for(lambda: "acme/data (Hugging Face dataset)" in live.bot.out.getvalue())
    assert "now gated" in live.bot.out.getvalue()


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET[:-1], SECRET + "x"])
async def test_wrong_or_missing_secret_is_401_and_nothing_is_checked(
    hub: FakeHub, live: Running, secret: str | None
) -> None:
    hub.set_repo("acme/model", license="llama3")
    before = hub.count("/api/models/acme/model")
    target = live.bot.store.get_target("hf:acme/model")
    status, body = await live.post(payload("repo.content", "model", "acme/model"), secret=secret)
    assert status == 401 and "secret" in body["error"]
    await nothing_else_started(live, hub)
    assert hub.count("/api/models/acme/model") == before
    assert live.bot.store.get_target("hf:acme/model") == target  # not even a check recorded
    assert live.bot.store.deliveries_for() == []
    assert live.bot.out.getvalue() == ""


async def test_secret_in_the_url_is_accepted_as_the_hub_allows(hub: FakeHub, live: Running) -> None:
    hub.set_repo("acme/model", license="cc-by-nc-4.0")
    status, _ = await live.post(
        payload("repo", "model", "acme/model"), secret=None, query=f"?secret={SECRET}"
    )
    assert status == 200
    assert await wait_for(lambda: "Licence changed — acme/model" in live.bot.out.getvalue())
    status, _ = await live.post(payload("repo", "model", "acme/model"), None, "?secret=nope")
    assert status == 401


async def test_unwatched_repos_discussions_and_garbage_check_nothing(
    hub: FakeHub, live: Running
) -> None:
    before = hub.count("/api/models/")
    assert await live.post(payload("repo.content", "model", "someone/else")) == (
        200,
        {"ok": True, "checking": []},
    )
    discussion = corpus_path("hub-api", "webhooks", "hub-docs.payload.discussion-create.full.jsonc")
    text = re.sub(r"^\s*//.*$", "", discussion.read_text(encoding="utf-8"), flags=re.M)
    data = json.loads(text)
    data["repo"]["name"] = "acme/model"  # a discussion on a watched repo: not a licence event
    status, _ = await live.post(json.dumps(data).encode())
    assert status == 200
    status, body = await live.post(b'{"event": {"scope": "repo"')
    assert status == 400 and "not a Hub webhook payload" in body["error"]
    status, _ = await live.post(b'{"event": {"scope": "repo", "action": "update"}}')
    assert status == 400
    await nothing_else_started(live, hub)
    assert hub.count("/api/models/") == before
    assert live.bot.out.getvalue() == ""


async def test_an_event_in_a_watched_org_rechecks_the_org(hub: FakeHub, live: Running) -> None:
    assert "Watching hf-org:acme" in await live.bot.run("watch hf:org/acme")
    hub.set_repo("acme/fresh-model", license="mit")
    status, body = await live.post(payload("repo", "model", "acme/fresh-model", "create"))
    assert (status, body) == (200, {"ok": True, "checking": 1})
    assert await wait_for(lambda: "new: acme/fresh-model" in live.bot.out.getvalue())


async def test_without_a_secret_there_is_no_route(hub: FakeHub, tmp_path: Path) -> None:
    async for r in running(hub, tmp_path):
        async with (
            aiohttp.ClientSession() as http,
            http.post(r.url, data=payload("repo", "model", "acme/model")) as resp,
        ):
            assert resp.status in (404, 405)


def test_events_map_to_our_targets() -> None:
    def refs(scope: str, kind: str, name: str) -> list[TargetRef]:
        return targets_for(parse_event(payload(scope, kind, name)))

    assert refs("repo.content", "model", "o/m") == [
        TargetRef("hf", "o/m"),
        TargetRef("hf-org", "o"),
    ]
    assert refs("repo", "dataset", "o/d")[0] == TargetRef("hf", "datasets/o/d")
    assert refs("repo.config", "space", "o/s")[0] == TargetRef("hf", "spaces/o/s")
    assert refs("repo.config.dois", "model", "o/m")[0] == TargetRef("hf", "o/m")  # sub-scope
    assert refs("repository", "model", "o/m") == []  # not a sub-scope of repo
    assert refs("discussion.comment", "model", "o/m") == []
    assert refs("repo", "bucket", "o/b") == []
    with pytest.raises(BadPayload):
        parse_event(b"[1, 2]")
    assert secret_matches("abc", "abc")
    assert not secret_matches("abd", "abc") and not secret_matches(None, "abc")
    assert not secret_matches("ab\u00e9", "abc")  # non-ASCII never matches, never raises
