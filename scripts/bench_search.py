"""Search on 100,000 index rows: p50 and p95 of a search, and what a write pays for indexing.

    .venv/bin/python scripts/bench_search.py sqlite
    .venv/bin/python scripts/bench_search.py postgres   # a throwaway database on 127.0.0.1

The index rows are bulk-inserted into search_entry directly (the FTS5 triggers or the
generated tsvector fill the full text as for any write), spread over two groups and every
kind and visibility; the searches run as a Board member (the widest visibility filter
outside the groups). The write cost is creating an action through its service, with the
search listener registered and without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROWS = 100_000
SEARCHES = 200
WRITES = 100
WORDS = [f"word{n}" for n in range(2000)]


def _configure(engine: str) -> str:
    data_dir = tempfile.mkdtemp(prefix="bench-search-")
    os.environ["GOVERNANCE_DATA_DIR"] = data_dir
    os.environ.setdefault("GOVERNANCE_SECRET_KEY", "bench-search")
    if engine == "postgres":
        name = f"bench_search_{os.getpid()}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        os.environ["GOVERNANCE_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{name}"
        return name
    os.environ["GOVERNANCE_DATABASE_URL"] = f"sqlite:///{data_dir}/bench.sqlite3"
    return ""


async def _fill() -> tuple[int, int]:
    from governance.core.db import write_transaction
    from governance.search.tables import SearchEntry
    from tests.factories import make_group, make_membership, make_user

    groups = [await make_group(slug="alpha", name="Alpha"), await make_group(slug="beta")]
    chair = await make_user("chair@example.org", "Chair")
    await make_membership(chair, groups[0], "chair")
    board = await make_user("board@example.org", "Board", board=True)
    rng = random.Random(7)  # noqa: S311 (a repeatable benchmark, not a secret)
    kinds = ["meeting", "agenda_item", "minutes", "decision", "action", "report", "response"]
    start = dt.date(2024, 1, 1)
    for batch in range(0, ROWS, 1000):
        rows = [
            SearchEntry(
                root_key=f"bench:{n}",
                kind=rng.choice(kinds),
                record_id=n,
                link_id=n,
                group_id=rng.choice(groups),
                visibility=rng.choice(["public", "internal", "board", "group"]),
                status=rng.choice(["submitted", "circulated", "draft"]),
                occurred_on=(start + dt.timedelta(days=n % 900)).isoformat(),
                title=" ".join(rng.choices(WORDS, k=6)),
                body=" ".join(rng.choices(WORDS, k=60)),
            )
            for n in range(batch, batch + 1000)
        ]
        async with write_transaction():
            await SearchEntry.insert(*rows)
    return board, chair


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms"


async def _searches(board: int) -> None:
    from governance.search.queries import search
    from governance.search.schemas import SearchQuery
    from tests.factories import viewer_for

    viewer = await viewer_for(board)
    rng = random.Random(11)  # noqa: S311 (a repeatable benchmark, not a secret)
    for label, words in (("one word", 1), ("two words", 2)):
        samples = []
        for _ in range(SEARCHES):
            query = SearchQuery(q=" ".join(rng.choices(WORDS, k=words)))
            began = time.perf_counter()
            await search(query, viewer)
            samples.append((time.perf_counter() - began) * 1000)
        print(f"search, {label}: {_percentiles(samples)}")


async def _writes(chair: int) -> None:
    from governance.actions.schemas import NewAction
    from governance.actions.services import create_action
    from governance.core import audit
    from governance.search.indexer import reindex_entity
    from tests.factories import viewer_for

    leader = await viewer_for(chair)
    group_id = next(iter(leader.group_roles))
    due = dt.date.today() + dt.timedelta(days=30)
    for label, listening in (("with the listener", True), ("without it", False)):
        if not listening:
            audit._listeners.remove(reindex_entity)
        samples = []
        for n in range(WRITES):
            command = NewAction(title=f"Bench action {n}", due_on=due, owner_ids=[chair])
            began = time.perf_counter()
            await create_action(group_id, command, leader)
            samples.append((time.perf_counter() - began) * 1000)
        print(f"create an action, {label}: {_percentiles(samples)}")
    audit.after_event(reindex_entity)


async def main(engine: str) -> None:
    from governance.cli import apply_migrations
    from governance.core.db import open_database

    async with open_database():
        await apply_migrations()
        began = time.perf_counter()
        board, chair = await _fill()
        print(f"{engine}: {ROWS} index rows inserted in {time.perf_counter() - began:.1f} s")
        await _searches(board)
        await _writes(chair)


if __name__ == "__main__":
    engine = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    database = _configure(engine)
    try:
        asyncio.run(main(engine))
    finally:
        if database:
            subprocess.run(
                ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", database], check=False
            )
