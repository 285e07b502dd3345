"""What the start-up and no-change-cycle speed-ups (issue 7 benchmark) must not change:

* checks that find nothing (304, or the same bytes) are recorded together at the end of a
  batch, yet every target is rescheduled, its failure count cleared and new validators kept;
* a database already at the newest schema is opened without importing Alembic, and a new
  one is still migrated; the migration head we read from the scripts is Alembic's head.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.store.migrate import alembic_config, head_revision
from tests.clihelp import ROOT
from tests.conftest import Bot, Clock, make_settings
from tests.fakes.web import FakeWeb

PAGE = "<html><body><nav>Home</nav><main><h1>Pricing</h1><p>Pro: $20</p></main></body></html>"


@pytest.fixture
async def bot(clock: Clock, tmp_path: Path) -> AsyncIterator[Bot]:
    b = Bot(make_settings(f"sqlite:///{tmp_path / 'bot.db'}"), clock)
    yield b
    await b.close()


async def test_a_no_change_cycle_reschedules_every_page_and_keeps_new_validators(
    bot: Bot, web: FakeWeb
) -> None:
    paths = [f"/p{i}" for i in range(5)]
    for path in paths:
        web.set_page(path, PAGE, etag='"v1"')
        await bot.run(f"watch page:{web.url}{path}")
    web.status("/p3", 500)
    await bot.cycle()  # nothing due yet: baselines were just taken
    bot.clock.advance(hours=1, seconds=1)
    sent, _ = await bot.cycle()
    assert sent == 0
    failing = bot.store.get_target(f"page:{web.url}/p3")
    assert failing is not None and failing.failures == 1

    # p3 is back with the same text under a new ETag (a 200 with the same bytes).
    web.set_page("/p3", PAGE, etag='"v2"')
    bot.clock.advance(hours=1, seconds=1)
    sent, printed = await bot.cycle()
    assert (sent, printed) == (0, "")
    now = bot.clock()
    for path in paths:
        target = bot.store.get_target(f"page:{web.url}{path}")
        assert target is not None
        assert target.last_checked_at == now
        assert target.next_check_at == now + timedelta(seconds=3600)
        assert (target.failures, target.last_error_reason, target.last_error) == (0, None, None)
        assert target.etag == ('"v2"' if path == "/p3" else '"v1"')
    assert bot.store.lease_owners() == set()  # every lease given back

    # The next cycle asks with the validators that were kept, and everything answers 304.
    bot.clock.advance(hours=1, seconds=1)
    before = len(web.requests)
    assert await bot.cycle() == (0, "")
    asked = {hit.path: hit.headers.get("if-none-match") for hit in web.requests[before:]}
    assert asked == {path: '"v2"' if path == "/p3" else '"v1"' for path in paths}


def _open_store(db: Path) -> str:
    code = (
        "import sys\n"
        "from bot.store import Store\n"
        f"store = Store.open('sqlite:///{db}')\n"
        "print(len(store.list_watches()), 'alembic' in sys.modules)\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=50
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip()


def test_a_current_database_opens_without_alembic_and_a_new_one_is_migrated(
    tmp_path: Path,
) -> None:
    db = tmp_path / "fresh.db"
    assert _open_store(db) == "0 True"  # migrated: the tables exist afterwards
    assert _open_store(db) == "0 False"


def test_the_head_read_from_the_scripts_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
