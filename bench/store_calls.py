"""The store's CPU per call on the all-changed cycle's hot paths, over a real SQLite store.

What the bot's store thread does most in an all-changed cycle, measured alone (thread CPU, no
other thread competing): ``record_many`` (checks recorded a few at a time, each with a new
snapshot, one change and one delivery), ``snapshots_by_id`` (a few ids a call),
``claim_deliveries`` (200 at a time) and ``mark_sent_and_take`` (one per sent alert, the next
delivery renewed). The database is a real one: N pricing pages checked twice by ``policybot
check`` (first sight, then every page bumped), so the snapshots, changes and 2.5 KiB alert
payloads are what the bot writes. Each run starts from a fresh copy of it.

``--against`` names another checkout (e.g. a worktree of main): the runs alternate between
the two, side by side, and the medians of both are printed.

Usage::

    python bench/store_calls.py --pages 2000 --runs 5 [--against ../main]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.compare_urlwatch import ROOT, PolicybotSide, UpstreamProcess, bump_all

# Runs in a fresh process of the checkout measured (PYTHONPATH): argv[1] the database to copy.
_CALLS = r"""
import json, shutil, sqlite3, sys, tempfile, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
import sqlalchemy as sa
from bot.domain.model import Change, ChangeKind, Observation, Severity, Validators
from bot.store import Store
from bot.store.checks import CheckRecord
from bot.store.outbox import NextDelivery
from bot.store.rows import NewDelivery

OWNER, LEASE = "bench", timedelta(minutes=5)
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def cpu(fn, *args, **kwargs):
    began = time.thread_time()
    result = fn(*args, **kwargs)
    return result, time.thread_time() - began


def record(store):
    # Every target checked again: a new snapshot, one change and one alert each, 6 a call.
    with store.engine.begin() as c:
        rows = c.execute(sa.text(
            "SELECT t.id, t.latest_snapshot_id, s.facts, s.evidence, "
            "(SELECT payload FROM deliveries d WHERE d.target_id = t.id LIMIT 1) "
            "FROM targets t JOIN snapshots s ON s.id = t.latest_snapshot_id ORDER BY t.id"
        )).all()
    with store.engine.begin() as c:  # every target leased by OWNER, as a claim leaves it
        c.execute(sa.text("UPDATE targets SET lease_owner = :o, lease_until = :u"),
                  {"o": OWNER, "u": (NOW + LEASE).replace(tzinfo=None)})
    records = []
    for target_id, snapshot_id, facts, evidence, payload in rows:
        facts = json.loads(facts)
        facts["views"] = {k: {**v, "sha256": v["sha256"][::-1]} for k, v in facts["views"].items()}
        validators = Validators(f'"e{target_id}"', None, "x" * 64)
        seen = Observation(facts, json.loads(evidence), validators)
        change = Change(ChangeKind.CONTENT, Severity.WARNING, "Page text changed",
                        before="a\nb", after="a\nc", detail="diff " * 50, view="#pricing")
        records.append(CheckRecord(target_id, NOW, NOW + timedelta(hours=1), seen, (change,),
                                   (NewDelivery("console", json.loads(payload)),),
                                   expected_snapshot=snapshot_id))
    spent = 0.0
    for i in range(0, len(records), 6):
        recorded, took = cpu(store.record_many, records[i : i + 6], owner=OWNER)
        assert all(recorded)
        spent += took
    return 1000 * spent / len(records)


def snapshots(store):
    with store.engine.connect() as c:
        ids = list(c.execute(sa.text("SELECT id FROM snapshots ORDER BY id")).scalars())
    calls = [ids[i : i + 8] for i in range(0, len(ids), 8)]
    spent = sum(cpu(store.snapshots_by_id, chunk)[1] for chunk in calls)
    return 1000 * spent / len(calls)


def deliver(store):
    claimed = marked = 0
    claim_cpu = mark_cpu = 0.0
    while True:
        batch, took = cpu(store.claim_deliveries, NOW, OWNER, LEASE, 200)
        claim_cpu += took
        if not batch:
            break
        claimed += 1
        for i, row in enumerate(batch):
            nxt = batch[i + 1] if i + 1 < len(batch) else None
            take = None if nxt is None else NextDelivery(nxt.id, nxt.target_id, nxt.channel, True)
            handover, took = cpu(store.mark_sent_and_take, row.id, NOW, f"m{row.id}", None,
                                 owner=OWNER, lease=LEASE, take=take)
            assert handover.marked and (take is None or handover.taken.held)
            mark_cpu += took
            marked += 1
    return 1000 * claim_cpu / claimed, 1000 * mark_cpu / marked


with tempfile.TemporaryDirectory() as tmp:
    db = Path(tmp) / "store.db"
    shutil.copy(sys.argv[1], db)
    with sqlite3.connect(db) as con:  # the sent alerts pending again, due long ago
        con.execute("UPDATE deliveries SET status = 'pending', sent_at = NULL, "
                    "message_id = NULL, lease_owner = NULL, lease_until = NULL, "
                    "next_attempt_at = '2000-01-01 00:00:00.000000'")
    store = Store.open(f"sqlite:///{db}")
    numbers = {"record_many": record(store), "snapshots_by_id": snapshots(store)}
    numbers["claim_deliveries"], numbers["mark_sent_and_take"] = deliver(store)
    store.close()
print(json.dumps(numbers))
"""

UNITS = {
    "record_many": "ms per recorded check (6 a call)",
    "snapshots_by_id": "ms per call (8 ids)",
    "claim_deliveries": "ms per claim (200 deliveries)",
    "mark_sent_and_take": "ms per sent alert",
}


def build_database(tmp: Path, pages: int, per_host: int) -> Path:
    """A bench database after an all-changed cycle (its alerts sent to the console)."""
    with UpstreamProcess(pages) as up:
        side = PolicybotSide(ROOT, tmp, up.url, pages, per_host)
        side.cycle()  # first sight
        bump_all(up.url)
        _, summary = side.cycle()
        print(f"database: {summary}", file=sys.stderr)
    return tmp / "bench.db"


def measure(root: Path, db: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CALLS, str(db)],
        env={**os.environ, "PYTHONPATH": str(root)},
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    numbers: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--per-host", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout, measured alternately")
    opts = parser.parse_args()
    roots = [ROOT] + ([opts.against.resolve()] if opts.against else [])
    with tempfile.TemporaryDirectory() as tmp_s:
        db = build_database(Path(tmp_s), opts.pages, opts.per_host)
        runs: dict[Path, list[dict[str, float]]] = {root: [] for root in roots}
        for _ in range(opts.runs):
            for root in roots:
                runs[root].append(measure(root, db))
    for name, unit in UNITS.items():
        medians = "  ".join(
            f"{statistics.median(r[name] for r in runs[root]):7.3f} ({root.name})" for root in roots
        )
        print(f"{name:20s} {medians}  {unit}")


if __name__ == "__main__":
    main()
