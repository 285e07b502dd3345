"""Two replicas writing a channel's first row at once (PostgreSQL): the second waits for the
first and then updates the row; before, its insert failed after the alert had been posted,
so the alert stayed unmarked and was posted again when its lease ran out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.store import Store
from bot.store.outbox import _upsert_channel
from bot.store.tables import channels

CHANNEL = "webhook:https://hooks.example/first"


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    s = Store.open(pg_url)
    yield s
    s.close()


def test_a_channels_first_row_written_by_two_transactions_at_once_is_one_row(
    pg_store: Store,
) -> None:
    first_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    second_at = datetime(2026, 12, 1, 9, 1, tzinfo=UTC)
    errors: list[BaseException] = []
    with pg_store.engine.connect() as first:
        tx = first.begin()
        _upsert_channel(first, CHANNEL, last_post_at=first_at)  # inserted, not committed

        def second_replica() -> None:
            try:
                with pg_store.engine.begin() as second:  # waits on the first's new row
                    _upsert_channel(second, CHANNEL, last_post_at=second_at)
            except BaseException as e:
                errors.append(e)

        other = threading.Thread(target=second_replica)
        other.start()
        other.join(0.5)
        assert other.is_alive(), "the second transaction waits for the first's uncommitted row"
        tx.commit()
        other.join(10)
    assert not other.is_alive() and errors == []
    with pg_store.engine.connect() as c:
        rows = c.execute(sa.select(channels.c.last_post_at).where(channels.c.channel == CHANNEL))
        assert [r[0] for r in rows] == [second_at], "one row, holding the later post"
