"""How long the organisation's annual transparency figures take over a large data set, and
in how many queries (issue 6: a bounded number, whatever the amount of data).

Builds a throwaway database with 50 groups, 5,000 meetings (agenda, attendance, decisions),
100,000 actions (with their status updates) and 10,000 reports (periodic reports and
recommendations with their deliveries) by bulk inserts, then times
compute_figures("organisation", "<year>", "board") and counts the queries it sends.

    .venv/bin/python scripts/bench_transparency.py                 # SQLite file in a temp dir
    .venv/bin/python scripts/bench_transparency.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres   # PostgreSQL

With --database-url the named database is only used to create a throwaway database next to
it (governance_bench_...), which is dropped at the end. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
VISIBILITIES = ("public", "internal", "internal", "board", "group")
Row = dict[str, Any]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="",
        help="postgresql://… of a server to create (and drop) a throwaway database on; "
        "SQLite in a temporary folder when omitted",
    )
    parser.add_argument("--year", type=int, default=dt.date.today().year - 1)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--meetings", type=int, default=5_000)
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of compute_figures")
    parser.add_argument("--seed", type=int, default=6)
    return parser.parse_args()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def create_postgres_database(url: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_postgres_database(url: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await connection.close()


def main() -> int:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="governance-bench-transparency-"))
    server_url = args.database_url.replace("postgres://", "postgresql://", 1)
    if server_url and not server_url.startswith("postgresql://"):
        raise SystemExit("--database-url must be a postgresql:// URL")
    database_name = f"governance_bench_{secrets.token_hex(4)}"
    if server_url:
        asyncio.run(create_postgres_database(server_url, database_name))
        database_url = with_database(server_url, database_name)
    else:
        database_url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    # Settings are read once, when governance is first imported: fix them before that.
    os.environ["GOVERNANCE_DATABASE_URL"] = database_url
    os.environ["GOVERNANCE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GOVERNANCE_TIMEZONE", "Europe/London")
    os.environ["GOVERNANCE_LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    try:
        asyncio.run(run(args, "postgresql" if server_url else "sqlite"))
    finally:
        if server_url:
            asyncio.run(drop_postgres_database(server_url, database_name))
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


async def run(args: argparse.Namespace, kind: str) -> None:
    from governance.cli import apply_migrations
    from governance.core.db import get_engine, open_database
    from governance.transparency.metrics import compute_figures

    async with open_database():
        await apply_migrations()
        started = time.perf_counter()
        await build(args)
        built = time.perf_counter() - started
        print(
            f"{kind}: {args.groups} groups, {args.meetings:,} meetings, {args.actions:,} actions,"
            f" {args.reports:,} reports built in {built:.1f} s"
        )
        engine: Any = get_engine()
        for run_number in range(1, max(args.runs, 1) + 1):
            before = engine.queries_run
            started = time.perf_counter()
            figures = await compute_figures("organisation", str(args.year), "board")
            elapsed = time.perf_counter() - started
            queries = engine.queries_run - before
            print(
                f'run {run_number}: compute_figures("organisation", "{args.year}", "board")'
                f" took {elapsed:.3f} s in {queries} queries"
            )
        groups = figures.groups
        print(
            f"figures: {len(groups)} groups, {sum(g.meetings_held for g in groups):,} meetings"
            f" held, {sum(g.decisions for g in groups):,} decisions,"
            f" {sum(g.actions_opened for g in groups):,} actions opened,"
            f" {sum(g.actions_completed for g in groups):,} completed,"
            f" {sum(g.actions_overdue_at_end for g in groups):,} overdue at the end,"
            f" {sum(line.recommendations for g in groups for line in g.lines):,}"
            f" recommendation deliveries,"
            f" {sum(line.periodic_due for g in groups for line in g.lines):,} periodic reports due"
        )


async def write_rows(table: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk inserts under the application's tables: COPY on PostgreSQL, executemany on
    SQLite (Piccolo's adapters turn dates and times into what it stores). Columns left out
    take the table's defaults."""
    import aiosqlite

    from governance.core.db import get_engine, is_postgres

    if not rows:
        return
    name = table._meta.tablename
    columns = list(rows[0])
    records = [tuple(row[column] for column in columns) for row in rows]
    engine: Any = get_engine()
    if is_postgres(engine):
        async with engine.pool.acquire() as connection:
            await connection.copy_records_to_table(name, records=records, columns=columns)
        return
    quoted = ", ".join(f'"{column}"' for column in columns)
    marks = ", ".join("?" for _ in columns)
    # A connection of its own for loading, with a large cache and no waiting for the disk:
    # the data are thrown away. The engine's own connections keep the settings they serve with.
    connection = await aiosqlite.connect(engine.path)
    try:
        await connection.execute("PRAGMA synchronous = OFF")
        await connection.execute("PRAGMA cache_size = -262144")
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.executemany(f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})', records)
        await connection.commit()
    finally:
        await connection.close()


async def build(args: argparse.Namespace) -> None:
    """Rows with ids chosen here, so they can refer to each other without reading anything
    back, written in bulk."""
    from governance.accounts.tables import User
    from governance.actions.tables import ActionItem, ActionUpdate
    from governance.core.db import get_engine, is_postgres
    from governance.groups.tables import Membership, ReportingLine, WorkingGroup
    from governance.meetings.tables import AgendaItem, Attendance, Decision, Meeting
    from governance.reports.tables import Delivery, Report

    rng = random.Random(args.seed)  # noqa: S311 - made-up data, not secrets
    utc = dt.UTC
    year = args.year
    year_start = dt.datetime(year, 1, 1, tzinfo=utc)
    year_seconds = 365 * 86400

    def in_year(offset_days: int = 0) -> dt.datetime:
        return year_start + dt.timedelta(
            seconds=rng.randint(0, year_seconds - 1) + offset_days * 86400
        )

    members_per_group = 10
    users = [
        dict(
            id=n,
            email=f"bench{n}@example.org",
            display_name=f"Bench person {n}",
            password_hash="!",  # noqa: S106 - no one signs in
            created_at=year_start,
        )
        for n in range(1, args.groups * members_per_group + 2)
    ]
    author = len(users)
    groups: list[Row] = []
    lines: list[Row] = []
    memberships: list[Row] = []
    line_ids: dict[tuple[int, str], tuple[int, int]] = {}
    for g in range(1, args.groups + 1):
        groups.append(
            dict(
                id=g,
                name=f"Bench group {g:03d}",
                slug=f"bench-{g}",
                quorum_rule=("majority", "two_thirds", "fixed")[g % 3],
                quorum_count=4,
                created_at=dt.datetime(year - 1, 1, 1, tzinfo=utc),
            )
        )
        for recipient, cadence, due_days, response_days in (
            ("director", "quarterly" if g % 5 else "yearly", 30, 30),
            ("board", "quarterly", 45, 21),
        ):
            line_id = len(lines) + 1
            lines.append(
                dict(
                    id=line_id,
                    group=g,
                    recipient=recipient,
                    cadence=cadence,
                    report_due_days=due_days,
                    response_days=response_days,
                )
            )
            line_ids[(g, recipient)] = (line_id, response_days)
        for m in range(members_per_group):
            user = (g - 1) * members_per_group + m + 1
            memberships.append(
                dict(
                    id=len(memberships) + 1,
                    user=user,
                    group=g,
                    role="chair" if m == 0 else "member",
                    starts_on=dt.date(year - 1, 1, 1),
                    ends_on=dt.date(year, 6, 30) if m == members_per_group - 1 else None,
                )
            )

    meetings: list[Row] = []
    items: list[Row] = []
    attendance: list[Row] = []
    decisions: list[Row] = []
    for n in range(1, args.meetings + 1):
        g = (n - 1) % args.groups + 1
        starts_at = in_year()
        status = rng.choice(("held", "held", "held", "held", "cancelled", "scheduled"))
        meetings.append(
            dict(
                id=n,
                group=g,
                title=f"Meeting {n}",
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(hours=2),
                status=status,
                created_at=starts_at,
                updated_at=starts_at,
            )
        )
        for position in range(3):
            item_id = len(items) + 1
            items.append(
                dict(
                    id=item_id,
                    meeting=n,
                    position=position,
                    title=f"Item {item_id}",
                    visibility=rng.choice(VISIBILITIES),
                )
            )
            if status != "cancelled" and position == 0:
                decisions.append(
                    dict(
                        id=len(decisions) + 1,
                        meeting=n,
                        agenda_item=item_id,
                        text="Agreed.",
                        quorum_met=rng.random() < 0.8,
                        recorded_by=author,
                        created_at=starts_at,
                    )
                )
        if status == "held":
            for m in range(members_per_group):
                attendance.append(
                    dict(
                        id=len(attendance) + 1,
                        meeting=n,
                        user=(g - 1) * members_per_group + m + 1,
                        mode=rng.choice(("present", "present", "remote", "apologies", "absent")),
                    )
                )

    actions: list[Row] = []
    updates: list[Row] = []
    for n in range(1, args.actions + 1):
        g = (n - 1) % args.groups + 1
        created = in_year(-60)
        status = rng.choice(("open", "in_progress", "done", "done", "dropped"))
        finished = created + dt.timedelta(seconds=rng.randint(3600, 120 * 86400))
        actions.append(
            dict(
                id=n,
                group=g,
                title=f"Action {n}",
                due_on=(created + dt.timedelta(days=rng.randint(-5, 90))).date(),
                status=status,
                visibility=rng.choice(VISIBILITIES),
                created_by=author,
                created_at=created,
                updated_at=finished if status in ("done", "dropped") else created,
                completed_at=finished if status == "done" else None,
            )
        )
        if status in ("done", "dropped"):
            updates.append(
                dict(
                    id=len(updates) + 1,
                    action=n,
                    author=author,
                    status_from="open",
                    status_to=status,
                    created_at=finished,
                )
            )

    reports: list[Row] = []
    deliveries: list[Row] = []
    labels = [f"{y}-Q{q}" for y in (year - 1, year) for q in range(1, 5)] + [str(year - 1)]
    for n in range(1, args.reports + 1):
        g = (n - 1) % args.groups + 1
        periodic = (n - 1) // args.groups < len(labels)
        submitted = in_year()
        route = "both" if periodic else rng.choice(("both", "both", "board", "director"))
        reports.append(
            dict(
                id=n,
                group=g,
                kind="periodic" if periodic else "recommendation",
                period=labels[(n - 1) // args.groups] if periodic else "",
                title=f"Report {n}",
                body="Text.",
                visibility="board" if route == "board" else "internal",
                to_director=route != "board",
                to_board=route != "director",
                status="submitted",
                created_by=author,
                created_at=submitted,
                updated_at=submitted,
                submitted_at=submitted,
                submitted_by=author,
            )
        )
        for recipient in ("director", "board"):
            if (recipient == "director" and route == "board") or (
                recipient == "board" and route == "director"
            ):
                continue
            line_id, response_days = line_ids[(g, recipient)]
            acknowledged = submitted + dt.timedelta(hours=rng.randint(1, 400))
            responded = acknowledged + dt.timedelta(hours=rng.randint(1, 1200))
            answered = not periodic and rng.random() < 0.7
            deliveries.append(
                dict(
                    id=len(deliveries) + 1,
                    report=n,
                    line=line_id,
                    recipient=recipient,
                    state="responded" if answered else "acknowledged",
                    delivered_at=submitted,
                    response_due_on=submitted.date() + dt.timedelta(days=response_days),
                    acknowledged_at=acknowledged,
                    responded_at=responded if answered else None,
                    response=rng.choice(("accepted", "partially_accepted", "declined", "noted"))
                    if answered
                    else "",
                )
            )

    for table, rows in (
        (User, users),
        (WorkingGroup, groups),
        (ReportingLine, lines),
        (Membership, memberships),
        (Meeting, meetings),
        (AgendaItem, items),
        (Attendance, attendance),
        (Decision, decisions),
        (ActionItem, actions),
        (ActionUpdate, updates),
        (Report, reports),
        (Delivery, deliveries),
    ):
        await write_rows(table, rows)
    if is_postgres():
        # Fresh statistics, as autovacuum would have gathered on a database in use.
        await get_engine().run_ddl("ANALYZE")


if __name__ == "__main__":
    raise SystemExit(main())
