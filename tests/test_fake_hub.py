"""The fake Hub is only useful if the real client sees it as the Hub: these tests drive it with
`huggingface_hub.HfApi` (no mocks) and pin down what that client raises for each failure."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.conftest import CORPUS, skip_unless_ci
from tests.fakes.hub import FakeHub, serve_in_thread

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def hub() -> AsyncIterator[FakeHub]:
    async with FakeHub() as fake:
        yield fake


@pytest.fixture
def api(hub: FakeHub) -> HfApi:
    return HfApi(endpoint=hub.url, token=False)


def corpus_file(relative: str) -> Path:
    path = CORPUS / relative
    if not path.is_file():
        skip_unless_ci("../shared/corpus not present")
    return path


# ---------------------------------------------------------------- what the client parses


async def test_model_info_carries_the_scripted_licence_and_access(hub: FakeHub, api: HfApi) -> None:
    hub.set_repo("org/x", license="other", license_name="hfoil-1.0", license_link="LICENSE")

    info = await asyncio.to_thread(api.model_info, "org/x", timeout=5)

    assert info.id == "org/x"
    assert info.card_data is not None
    assert info.card_data.license == "other"
    assert info.card_data.license_name == "hfoil-1.0"
    assert info.card_data.license_link == "LICENSE"
    assert "license:other" in (info.tags or [])
    assert (info.gated, info.private, info.disabled) == (False, False, False)
    assert info.sha is not None and len(info.sha) == 40
    assert info.last_modified is not None and info.last_modified.tzinfo is not None


async def test_each_set_repo_is_a_new_commit_with_a_new_sha(hub: FakeHub, api: HfApi) -> None:
    hub.set_repo("org/x", license="mit")
    first = await asyncio.to_thread(api.model_info, "org/x", timeout=5)
    hub.set_repo("org/x", license="apache-2.0", gated="manual")
    second = await asyncio.to_thread(api.model_info, "org/x", timeout=5)

    assert first.sha != second.sha
    assert first.last_modified is not None and second.last_modified is not None
    assert second.last_modified > first.last_modified
    assert second.created_at == first.created_at
    assert second.gated == "manual"
    assert second.card_data is not None and second.card_data.license == "apache-2.0"


async def test_repo_without_licence_has_no_card_data_and_no_licence_tag(
    hub: FakeHub, api: HfApi
) -> None:
    hub.set_repo("org/bare", license=None)

    info = await asyncio.to_thread(api.model_info, "org/bare", timeout=5)

    assert info.card_data is None
    assert not [t for t in info.tags or [] if t.startswith("license:")]


async def test_dataset_with_a_list_licence(hub: FakeHub, api: HfApi) -> None:
    hub.set_repo("org/ds", repo_type="dataset", license=["mit", "cc-by-4.0"], gated=True)

    info = await asyncio.to_thread(api.dataset_info, "org/ds", timeout=5)

    assert info.card_data is not None and info.card_data.license == ["mit", "cc-by-4.0"]
    assert {"license:mit", "license:cc-by-4.0"} <= set(info.tags or [])
    assert info.gated == "auto"
    assert hub.count("/api/datasets/org/ds") == 1


async def test_space_info_and_space_expand_ignores_gated(hub: FakeHub, api: HfApi) -> None:
    hub.set_repo("org/sp", repo_type="space", license="mit")

    full = await asyncio.to_thread(api.space_info, "org/sp", timeout=5)
    # `gated` is not a space expand value (the client's own Literal type agrees); sent anyway.
    wrong: list[Any] = ["gated", "cardData"]
    expanded = await asyncio.to_thread(api.space_info, "org/sp", expand=wrong, timeout=5)

    assert full.card_data is not None and full.card_data.license == "mit"
    assert full.gated is False
    assert full.runtime is not None and full.runtime.stage == "RUNNING"
    assert expanded.gated is None  # spaces have no `gated` expand property
    assert expanded.card_data is not None and expanded.card_data.license == "mit"


async def test_legacy_single_segment_id(hub: FakeHub, api: HfApi) -> None:
    hub.set_repo("bert-base-uncased", license="apache-2.0")

    info = await asyncio.to_thread(api.model_info, "bert-base-uncased", timeout=5)

    assert info.id == "bert-base-uncased"


# ---------------------------------------------------------------- errors the client raises


@pytest.mark.parametrize("status", [401, 404])
async def test_removed_repo_raises_repository_not_found(
    hub: FakeHub, api: HfApi, status: int
) -> None:
    hub.set_repo("org/x")
    hub.remove("org/x", status=status)

    with pytest.raises(RepositoryNotFoundError) as caught:
        await asyncio.to_thread(api.model_info, "org/x", timeout=5)

    assert caught.value.response.status_code == status
    assert caught.value.response.headers["X-Error-Code"] == "RepoNotFound"


async def test_unknown_repo_raises_repository_not_found(api: HfApi) -> None:
    with pytest.raises(RepositoryNotFoundError) as caught:
        await asyncio.to_thread(api.model_info, "org/never-was", timeout=5)

    assert caught.value.response.status_code == 401


async def test_private_repo_is_not_found_anonymously_but_visible_with_a_token(
    hub: FakeHub, api: HfApi
) -> None:
    hub.set_repo("org/secret", private=True)
    authed = HfApi(endpoint=hub.url, token="hf_fake")

    with pytest.raises(RepositoryNotFoundError):
        await asyncio.to_thread(api.model_info, "org/secret", timeout=5)
    info = await asyncio.to_thread(authed.model_info, "org/secret", timeout=5)

    assert info.private is True
    assert "authorization" not in hub.requests[0].headers
    assert hub.requests[1].headers["authorization"] == "Bearer hf_fake"
    assert hub.requests[1].headers["user-agent"].startswith("unknown/None; hf_hub/")


async def test_gated_repo_error_header_raises_gated_repo_error(hub: FakeHub, api: HfApi) -> None:
    hub.set_repo("org/x", gated="manual")
    hub.fail("org/x", 403, headers={"X-Error-Code": "GatedRepo"})

    with pytest.raises(GatedRepoError):
        await asyncio.to_thread(api.model_info, "org/x", timeout=5)


async def test_disabled_repo_raises_disabled_and_lists_as_disabled(
    hub: FakeHub, api: HfApi
) -> None:
    hub.set_repo("org/x")
    hub.disable("org/x")

    with pytest.raises(DisabledRepoError) as caught:
        await asyncio.to_thread(api.model_info, "org/x", timeout=5)
    listed = await asyncio.to_thread(
        lambda: list(api.list_models(author="org", expand=["disabled"]))
    )

    assert caught.value.response.status_code == 403
    assert [(m.id, m.disabled) for m in listed] == [("org/x", True)]


@pytest.mark.parametrize("status", [500, 429])
async def test_server_error_and_rate_limit_raise_at_once_without_retry(
    hub: FakeHub, api: HfApi, status: int
) -> None:
    hub.set_repo("org/x")
    hub.fail("org/x", status)

    with pytest.raises(HfHubHTTPError) as caught:
        await asyncio.to_thread(api.model_info, "org/x", timeout=5)
    recovered = await asyncio.to_thread(api.model_info, "org/x", timeout=5)

    assert type(caught.value) is HfHubHTTPError
    assert caught.value.response.status_code == status
    if status == 429:
        assert caught.value.response.headers["RateLimit"] == '"api";r=0;t=0'
    assert hub.count("/api/models/org/x") == 2  # one failure (no retry), then one success
    assert recovered.id == "org/x"


async def test_listing_retries_a_rate_limit_after_ratelimit_reset(hub: FakeHub, api: HfApi) -> None:
    hub.set_repo("org/a")
    hub.fail("org/*", 429)  # RateLimit: "api";r=0;t=0 → the client sleeps t + 1 = 1 s

    listed = await asyncio.to_thread(lambda: [m.id for m in api.list_models(author="org")])

    assert listed == ["org/a"]
    assert hub.count("/api/models") == 2


async def test_slow_answer_past_the_client_timeout_raises_read_timeout(
    hub: FakeHub, api: HfApi
) -> None:
    hub.set_repo("org/x")
    hub.delay("org/x", 2.0)

    started = time.monotonic()
    with pytest.raises(httpx2.ReadTimeout):
        await asyncio.to_thread(api.model_info, "org/x", timeout=0.3)

    assert time.monotonic() - started < 1.5


async def test_garbage_json_raises_json_decode_error(hub: FakeHub, api: HfApi) -> None:
    hub.set_repo("org/x")
    hub.garbage("org/x")

    with pytest.raises(json.JSONDecodeError):
        await asyncio.to_thread(api.model_info, "org/x", timeout=5)


# ---------------------------------------------------------------- expand, revisions, commits


async def test_expand_is_sent_as_repeated_keys_and_narrows_the_answer(
    hub: FakeHub, api: HfApi
) -> None:
    hub.set_repo("org/x", license="mit", gated="manual")

    info = await asyncio.to_thread(api.model_info, "org/x", expand=["gated", "cardData"], timeout=5)

    assert hub.requests[-1].query == [("expand", "gated"), ("expand", "cardData")]
    assert info.gated == "manual"
    assert info.card_data is not None and info.card_data.license == "mit"
    assert (info.sha, info.tags, info.private) == (None, None, None)


async def test_commits_newest_first_and_old_revisions_keep_old_licence(
    hub: FakeHub, api: HfApi
) -> None:
    hub.set_repo("org/x", license="mit")
    hub.set_repo("org/x", license="other", license_name="hfoil-1.0")
    hub.set_repo("org/x", license="other", license_name="hfoil-1.0")

    commits = await asyncio.to_thread(api.list_repo_commits, "org/x", formatted=True)
    oldest = await asyncio.to_thread(
        api.model_info, "org/x", revision=commits[-1].commit_id, timeout=5
    )

    assert [c.title for c in commits] == [
        "Update README.md",
        "Change license: mit -> other (hfoil-1.0)",
        "Add README.md with license: mit",
    ]
    assert commits[0].created_at > commits[-1].created_at
    assert commits[0].authors == ["org"]
    assert commits[0].formatted_title == "Update README.md"
    assert hub.requests[0].query == [("expand[]", "formatted")]  # the bracket form is accepted
    assert oldest.card_data is not None and oldest.card_data.license == "mit"
    with pytest.raises(RevisionNotFoundError):
        await asyncio.to_thread(api.model_info, "org/x", revision="no-such-rev", timeout=5)


async def test_renamed_repo_redirects_to_the_new_id(hub: FakeHub, api: HfApi) -> None:
    hub.set_repo("org/new-name", license="mit")
    hub.redirect("org/old-name", "org/new-name")

    info = await asyncio.to_thread(api.model_info, "org/old-name", timeout=5)

    assert info.id == "org/new-name"
    paths = [r.path for r in hub.requests]
    assert paths == ["/api/models/org/old-name", "/api/models/org/new-name"]


# ---------------------------------------------------------------- listings


async def test_listing_250_repos_in_pages_of_100_takes_exactly_3_requests(
    hub: FakeHub, api: HfApi
) -> None:
    for n in range(250):
        hub.set_repo(f"big/m{n:03d}", license="mit")
    hub.set_repo("other-org/m", license="mit")

    listed = await asyncio.to_thread(
        lambda: list(api.list_models(author="big", expand=["gated", "cardData"]))
    )

    assert [m.id for m in listed] == [f"big/m{n:03d}" for n in range(250)]
    assert all(m.card_data is not None and m.card_data.license == "mit" for m in listed)
    assert hub.count("/api/models") == 3
    for request in hub.requests:  # the Link URL carries the whole query
        assert request.query_values("author") == ["big"]
        assert request.query_values("expand") == ["gated", "cardData"]


async def test_listing_without_expand_is_thin_and_hides_private_repos(
    hub: FakeHub, api: HfApi
) -> None:
    hub.set_repo("org/public", license="mit")
    hub.set_repo("org/private", private=True)

    listed = await asyncio.to_thread(lambda: list(api.list_models(author="org")))

    assert [m.id for m in listed] == ["org/public"]
    assert listed[0].card_data is None and listed[0].gated is None


# ---------------------------------------------------------------- recorded responses (corpus)


async def test_recorded_gated_llama_response_parses(hub: FakeHub, api: HfApi) -> None:
    path = corpus_file("hub-api/models/meta-llama__Llama-3.1-8B-Instruct.2025-03-21.json")
    hub.set_raw("meta-llama/Llama-3.1-8B-Instruct", json.loads(path.read_text("utf-8")))

    info = await asyncio.to_thread(api.model_info, "meta-llama/Llama-3.1-8B-Instruct", timeout=5)

    assert info.gated == "manual"
    assert info.card_data is not None and info.card_data.license == "llama3.1"
    assert "license:llama3.1" in (info.tags or [])
    assert info.sha == "0e9e39f249a16976918f6564b8830bc894c89659"


async def test_redirect_matches_the_recorded_307(hub: FakeHub) -> None:
    path = corpus_file(
        "hub-api/models/meta-llama__Meta-Llama-3.1-8B-Instruct.2025-03-21.307-redirect.txt"
    )
    hub.redirect("meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct")

    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{hub.url}/api/models/meta-llama/Meta-Llama-3.1-8B-Instruct", allow_redirects=False
        ) as response,
    ):
        body = await response.read()

    assert response.status == 307
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Location"] == "/api/models/meta-llama/Llama-3.1-8B-Instruct"
    assert body == path.read_bytes()


async def test_etag_and_if_none_match_give_304(hub: FakeHub) -> None:
    hub.set_repo("org/x")
    url = f"{hub.url}/api/models/org/x"

    async with aiohttp.ClientSession() as session:
        async with session.get(url) as first:
            etag = first.headers["ETag"]
            assert first.headers["Content-Type"] == "application/json; charset=utf-8"
        async with session.get(url, headers={"If-None-Match": etag}) as second:
            assert second.status == 304
        hub.set_repo("org/x")
        async with session.get(url, headers={"If-None-Match": etag}) as third:
            assert third.status == 200

    assert etag.startswith('W/"')


# ---------------------------------------------------------------- outside the test's event loop


def test_serve_in_thread_from_synchronous_code() -> None:
    with serve_in_thread() as hub:
        hub.set_repo("org/x", license="mit")
        api = HfApi(endpoint=hub.url, token=False)
        before = api.model_info("org/x", timeout=5)
        hub.set_repo("org/x", license="llama3", gated="manual")
        after = api.model_info("org/x", timeout=5)

    assert before.card_data is not None and before.card_data.license == "mit"
    assert after.card_data is not None and after.card_data.license == "llama3"
    assert after.gated == "manual"


def test_cli_serves_generated_models_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.hub", "--port", "0", "--models", "12"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        api = HfApi(endpoint=url, token=False)
        info = api.model_info("bench-org/model-00011", timeout=5)
        listed = list(api.list_models(author="bench-org", limit=50))
    finally:
        process.terminate()
        returncode = process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

    assert url.startswith("http://127.0.0.1:")
    assert info.id == "bench-org/model-00011"
    assert len(listed) == 12
    assert returncode == 0


# ---------------------------------------------------------------- files (resolve)


def _metadata(hub: FakeHub, repo: str, path: str, rev: str, token: str | bool = False, **kw: Any):
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo, path, revision=rev, endpoint=hub.url, **kw)
    return get_hf_file_metadata(url, token=token, timeout=5)


async def test_file_metadata_and_download_at_a_commit(hub: FakeHub, tmp_path: Path) -> None:
    from huggingface_hub import hf_hub_download

    hub.set_repo("org/x", license="other", license_name="acme", license_link="LICENSE")
    first = hub.set_file("org/x", "LICENSE", "Acme Licence v1\n")
    second = hub.set_file("org/x", "LICENSE", "Acme Licence v2, longer\n")
    meta = await asyncio.to_thread(_metadata, hub, "org/x", "LICENSE", first)
    assert meta.commit_hash == first and meta.size == len("Acme Licence v1\n")
    assert meta.etag and len(meta.etag) == 40, "a git blob id, as the Hub sends for small files"
    path = await asyncio.to_thread(
        hf_hub_download, "org/x", "LICENSE", revision=second, endpoint=hub.url,
        token=False, local_dir=tmp_path, etag_timeout=5,
    )  # fmt: skip
    assert Path(str(path)).read_text() == "Acme Licence v2, longer\n"
    old = await asyncio.to_thread(
        hf_hub_download, "org/x", "LICENSE", revision=first, endpoint=hub.url,
        token=False, cache_dir=tmp_path / "cache", etag_timeout=5,
    )  # fmt: skip
    assert Path(str(old)).read_text() == "Acme Licence v1\n", "an old commit keeps its file"
    assert any(
        r.method == "HEAD" and r.path == f"/org/x/resolve/{first}/LICENSE" for r in hub.requests
    )


async def test_lfs_file_sends_linked_etag_and_size(hub: FakeHub) -> None:
    hub.set_repo("datasets-org/d", repo_type="dataset", license="other")
    sha = hub.set_file("datasets-org/d", "LICENSE.md", b"x" * 300, repo_type="dataset", lfs=True)
    meta = await asyncio.to_thread(
        _metadata, hub, "datasets-org/d", "LICENSE.md", sha, repo_type="dataset"
    )
    assert meta.size == 300 and meta.etag and len(meta.etag) == 64, "sha256 from X-Linked-Etag"


async def test_missing_file_revision_and_repo_raise_the_client_errors(hub: FakeHub) -> None:
    from huggingface_hub.errors import RemoteEntryNotFoundError

    hub.set_repo("org/x")
    with pytest.raises(RemoteEntryNotFoundError):
        await asyncio.to_thread(_metadata, hub, "org/x", "LICENSE", "main")
    with pytest.raises(RevisionNotFoundError):
        await asyncio.to_thread(_metadata, hub, "org/x", "LICENSE", "f" * 40)
    with pytest.raises(RepositoryNotFoundError):
        await asyncio.to_thread(_metadata, hub, "org/none", "LICENSE", "main")


async def test_gated_files_need_access_but_the_card_is_readable(hub: FakeHub) -> None:
    hub.set_repo("meta/llama", license="llama3", license_link="LICENSE", gated="manual")
    hub.set_file("meta/llama", "README.md", "---\nlicense: llama3\n---\n")
    hub.set_file("meta/llama", "LICENSE", "META LLAMA 3 COMMUNITY LICENSE AGREEMENT\n")
    with pytest.raises(GatedRepoError) as anonymous:
        await asyncio.to_thread(_metadata, hub, "meta/llama", "LICENSE", "main")
    assert anonymous.value.response.status_code == 401
    with pytest.raises(GatedRepoError) as refused:
        await asyncio.to_thread(_metadata, hub, "meta/llama", "LICENSE", "main", "hf_nope")
    assert refused.value.response.status_code == 403
    card = await asyncio.to_thread(_metadata, hub, "meta/llama", "README.md", "main")
    assert card.size and card.size > 0
    hub.grant("meta/llama", "hf_granted")
    meta = await asyncio.to_thread(_metadata, hub, "meta/llama", "LICENSE", "main", "hf_granted")
    assert meta.size == len("META LLAMA 3 COMMUNITY LICENSE AGREEMENT\n")
