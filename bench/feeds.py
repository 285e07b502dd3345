"""How much a feed check costs, and what skipping unchanged bodies saves.

    PYTHONPATH=. python bench/feeds.py

Measures, per body: feedparser + our normalisation (``bot.text.feed_entries.parse_feed``) against
hashing the body (``hashlib.sha256``), for a synthetic 20-item feed, every real feed in the corpus
(when ``../shared/corpus`` is present) and a 2,000-item feed; then whole checks through the bot's
HTTP client against the local feed server: a 200 that is parsed, a 304, and a 200 whose body has the
digest of the last one (skipped without parsing).
"""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_settings
from bot.domain.model import TargetRef, Validators
from bot.sources.feed import FeedSource
from bot.text import feed_entries as feeds
from tests.fakes.feedserver import FeedServer, item, rss

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds" / "real"


def _hex_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` runs."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def synthetic(n: int) -> bytes:
    return rss(
        [
            item(
                f"g{i}",
                f"Post {i} about pricing and terms",
                link=f"https://blog.example/p/{i}",
                summary="<p>Some <b>HTML</b> summary text, a few sentences long. " * 4 + "</p>",
            )
            for i in range(n)
        ]
    )


def parse_vs_hash() -> None:
    bodies = {"synthetic 20 items": synthetic(20)}
    if CORPUS.is_dir():
        bodies.update({p.name: p.read_bytes() for p in sorted(CORPUS.glob("*.xml"))})
    bodies["synthetic 2000 items"] = synthetic(2000)
    print(f"{'body':58} {'bytes':>8} {'entries':>7} {'parse ms':>9} {'sha256 µs':>10}")
    for name, body in bodies.items():
        repeat = 5 if len(body) > 200_000 else 50
        parsed = feeds.parse_feed(body, content_type="text/xml", url="https://x/f")
        parse = timed(
            partial(feeds.parse_feed, body, content_type="text/xml", url="https://x/f"), repeat
        )
        digest = timed(partial(_hex_digest, body), 200)
        print(
            f"{name[:58]:58} {len(body):8} {len(parsed.entries):7} "
            f"{parse * 1000:9.2f} {digest * 1e6:10.1f}"
        )


async def whole_checks() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(database_url=f"sqlite:///{tmp}/b.db", allow_private_urls=True)
        source = FeedSource(settings)
        async with FeedServer() as web:
            body = synthetic(20)
            with_validators = TargetRef("feed", web.set("/v.xml", body))
            without = TargetRef("feed", web.set("/n.xml", body, validators=False))
            first = await source.fetch(with_validators, Validators(), {})
            seen = first.validators  # type: ignore[union-attr]
            cases = {
                "200, parsed": (with_validators, Validators()),
                "304 Not Modified": (with_validators, seen),
                "200, same digest (skipped)": (
                    without,
                    Validators(body_digest=hashlib.sha256(body).hexdigest()),
                ),
            }
            print(f"\n{'whole fetch of a 20-item feed':40} {'median ms':>10}")
            for label, (ref, validators) in cases.items():
                runs = []
                for _ in range(100):
                    start = time.perf_counter()
                    await source.fetch(ref, validators, {})
                    runs.append(time.perf_counter() - start)
                print(f"{label:40} {statistics.median(runs) * 1000:10.2f}")
        await source.aclose()


if __name__ == "__main__":
    parse_vs_hash()
    asyncio.run(whole_checks())
