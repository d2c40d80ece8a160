"""How long the digest job takes for 10,000 users, and how much memory it needs (issue 5).

Builds a throwaway database by bulk inserts: 10,000 users in six time zones (65% on a daily
digest, 25% weekly on a weekday of their own, 10% none; --everyone-daily for the worst case),
50 working groups of about 200 members each with both reporting lines, two years of monthly
meetings (agenda items of every visibility, attendance, decisions, minutes approved and
circulated) and two meetings ahead per group (one tomorrow), 6,000 actions with two owners
each, and 600 reports with a delivery per line, some awaiting a response past their due date.
Then, at 16:00 UTC on a Monday (07:00 or later in every zone used), it runs the digest job once
and prints
users processed, digests queued, elapsed seconds, queries and peak memory; then empties the
outbox and the digest records and runs it again under tracemalloc for the peak of Python
allocations during the job. The reminder sweep is timed too, twice (the second run finds
everything already queued).

    .venv/bin/python scripts/bench_digest.py                     # SQLite file in a temp dir
    .venv/bin/python scripts/bench_digest.py \\
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
import resource
import secrets
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 500
ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "Africa/Nairobi",
    "Asia/Kolkata",
    "America/New_York",
    "America/Sao_Paulo",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
VISIBILITIES = ("public", "internal", "internal", "board", "group")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="",
        help="postgresql://… of a server to create (and drop) a throwaway database on; "
        "SQLite in a temporary folder when omitted",
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--actions-per-group", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--everyone-daily",
        action="store_true",
        help="every user on a daily digest (the worst case) instead of the usual mix",
    )
    return parser.parse_args()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def postgres_admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def main() -> int:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="governance-bench-digest-"))
    server_url = args.database_url.replace("postgres://", "postgresql://", 1)
    if server_url and not server_url.startswith("postgresql://"):
        raise SystemExit("--database-url must be a postgresql:// URL")
    database_name = f"governance_bench_{secrets.token_hex(4)}"
    if server_url:
        asyncio.run(postgres_admin(server_url, f'CREATE DATABASE "{database_name}"'))
        database_url = with_database(server_url, database_name)
    else:
        database_url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    # Settings are read once, when governance is first imported: fix them before that.
    os.environ["GOVERNANCE_DATABASE_URL"] = database_url
    os.environ["GOVERNANCE_DATA_DIR"] = str(data_dir)
    os.environ["GOVERNANCE_TIMEZONE"] = "Europe/London"
    os.environ["GOVERNANCE_LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT))
    try:
        asyncio.run(run(args, "PostgreSQL" if server_url else "SQLite"))
    finally:
        if server_url:
            asyncio.run(postgres_admin(server_url, f'DROP DATABASE IF EXISTS "{database_name}"'))
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def bench_moment() -> dt.datetime:
    """16:00 UTC on the coming Monday: 07:00 or later on Monday in every zone used."""
    today = dt.datetime.now(dt.UTC).date()
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    return dt.datetime(monday.year, monday.month, monday.day, 16, tzinfo=dt.UTC)


async def run(args: argparse.Namespace, kind: str) -> None:
    import time_machine

    from governance.cli import apply_migrations
    from governance.core.db import open_database

    now = bench_moment()
    with time_machine.travel(now, tick=True):
        async with open_database():
            await apply_migrations()
            started = time.perf_counter()
            counts = await build(args, now)
            print(
                f"{kind}: built {', '.join(f'{n:,} {what}' for what, n in counts.items())}"
                f" in {time.perf_counter() - started:.1f} s"
            )
            await measure(args, now)


async def measure(args: argparse.Namespace, now: dt.datetime) -> None:
    from governance.core.db import get_engine
    from governance.core.tables import OutboundEmail
    from governance.notifications.digests import run_digests
    from governance.notifications.tables import DigestRecord

    engine: Any = get_engine()
    queries_before = engine.queries_run
    started = time.perf_counter()
    report = await run_digests(batch_size=args.batch_size)
    elapsed = time.perf_counter() - started
    queries = engine.queries_run - queries_before
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"digest job at {now:%a %Y-%m-%d %H:%M} UTC: {report.users_processed:,} users processed"
        f" in {report.batches} batches of up to {args.batch_size}, {report.digests_queued:,}"
        f" digests queued, {report.nothing_to_say:,} with nothing to say;"
        f" {elapsed:.2f} s, {queries:,} queries"
    )
    print(f"peak RSS of the whole process, building the data included: {rss_after / 1024:.0f} MiB")
    again = await run_digests(batch_size=args.batch_size)
    print(f"run again at once: {again.users_processed} users processed, nothing queued")

    from governance.notifications.reminders import run_reminder_sweep

    for label in ("reminder sweep", "reminder sweep again"):
        started = time.perf_counter()
        sweep = await run_reminder_sweep()
        print(
            f"{label}: {sweep.queued:,} reminders queued, {sweep.already_queued:,} already"
            f" queued, {sweep.muted:,} turned off; {time.perf_counter() - started:.2f} s"
        )

    await OutboundEmail.delete(force=True)
    await DigestRecord.delete(force=True)
    tracemalloc.start()
    started = time.perf_counter()
    traced = await run_digests(batch_size=args.batch_size)
    traced_elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"under tracemalloc: {traced.digests_queued:,} digests queued, peak Python allocations"
        f" during the job {peak / 2**20:.1f} MiB ({traced_elapsed:.2f} s with tracing)"
    )


async def insert_all(table: Any, rows: list[Any]) -> None:
    from governance.core.db import write_transaction

    async with write_transaction():
        for start in range(0, len(rows), CHUNK):
            await table.insert(*rows[start : start + CHUNK])


async def build(args: argparse.Namespace, now: dt.datetime) -> dict[str, int]:
    from governance.accounts.tables import User
    from governance.actions.tables import ActionItem, ActionOwner
    from governance.groups.tables import Membership, ReportingLine, WorkingGroup
    from governance.meetings.tables import AgendaItem, Attendance, Decision, Meeting, Minutes
    from governance.reports.tables import Delivery, Report

    rng = random.Random(args.seed)  # noqa: S311 - sample data, not secrets
    today = now.date()
    long_ago = now - dt.timedelta(days=760)

    # People: the Director, eight Board members, everyone else in the groups.
    users = []
    for number in range(1, args.users + 1):
        roll = rng.random()
        users.append(
            User(
                id=number,
                email=f"person{number}@bench.example.org",
                display_name=f"Person {number}",
                is_director=number == 1,
                is_board=2 <= number <= 9,
                timezone=ZONES[number % len(ZONES)],
                digest_frequency="daily"
                if roll < 0.65 or args.everyone_daily
                else "weekly"
                if roll < 0.9
                else "off",
                digest_weekday=rng.choice(WEEKDAYS),
                notification_categories=[],
                created_at=long_ago,
            )
        )
    await insert_all(User, users)

    groups = [
        WorkingGroup(
            id=number,
            name=f"Working group {number}",
            slug=f"group-{number}",
            created_at=long_ago,
        )
        for number in range(1, args.groups + 1)
    ]
    await insert_all(WorkingGroup, groups)
    lines = [
        ReportingLine(id=(g - 1) * 2 + offset + 1, group=g, recipient=recipient)
        for g in range(1, args.groups + 1)
        for offset, recipient in enumerate(("director", "board"))
    ]
    await insert_all(ReportingLine, lines)

    # About 200 members a group; one in five also sits on a second group.
    members: dict[int, list[int]] = {g: [] for g in range(1, args.groups + 1)}
    memberships = []
    for user in range(10, args.users + 1):
        seats = [1 + user % args.groups]
        if rng.random() < 0.2:
            seats.append(1 + (user * 7 + 3) % args.groups)
        for group in dict.fromkeys(seats):
            role = (
                ("chair", "secretary")[len(members[group])] if len(members[group]) < 2 else "member"
            )
            ends = today + dt.timedelta(days=rng.randint(10, 400)) if rng.random() < 0.1 else None
            memberships.append(
                Membership(
                    user=user,
                    group=group,
                    role=role,
                    starts_on=today - dt.timedelta(days=700),
                    ends_on=ends,
                )
            )
            members[group].append(user)
    await insert_all(Membership, memberships)

    # Two years of monthly meetings, and two ahead.
    meetings, items, minutes, decisions, attendance = [], [], [], [], []
    meeting_id = item_id = 0
    for group in range(1, args.groups + 1):
        for month in range(24, -3, -1):
            if month < 0:
                starts = now + dt.timedelta(days=1 if month == -1 else 10, hours=group % 5)
                status, minutes_status = "scheduled", "draft"
            else:
                starts = now - dt.timedelta(days=30 * month + 5, hours=group % 5)
                status = "held"
                minutes_status = "circulated" if month == 0 else "approved"
            meeting_id += 1
            meetings.append(
                Meeting(
                    id=meeting_id,
                    group=group,
                    title=f"Meeting {meeting_id}",
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=2),
                    location="Room 1",
                    status=status,
                    created_at=starts - dt.timedelta(days=20),
                    updated_at=starts,
                )
            )
            minutes.append(
                Minutes(
                    meeting=meeting_id,
                    status=minutes_status,
                    circulated_at=starts + dt.timedelta(days=2) if status == "held" else None,
                    updated_at=starts,
                )
            )
            for position in range(1, 5):
                item_id += 1
                items.append(
                    AgendaItem(
                        id=item_id,
                        meeting=meeting_id,
                        position=position,
                        title=f"Item {item_id}",
                        visibility=rng.choice(VISIBILITIES),
                    )
                )
                if status == "held" and position <= 2:
                    decisions.append(
                        Decision(
                            meeting=meeting_id,
                            agenda_item=item_id,
                            text=f"Decision on item {item_id}: agreed as proposed.",
                            votes_for=9,
                            quorum_met=True,
                            recorded_by=members[group][0],
                            created_at=starts + dt.timedelta(hours=1),
                        )
                    )
            if status == "held" and month <= 2:
                attendance += [
                    Attendance(meeting=meeting_id, user=user, mode="present")
                    for user in rng.sample(members[group], min(120, len(members[group])))
                ]
    for table, rows in (
        (Meeting, meetings),
        (Minutes, minutes),
        (AgendaItem, items),
        (Decision, decisions),
        (Attendance, attendance),
    ):
        await insert_all(table, rows)

    # Actions: some done, most open, due dates from two months ago to two months ahead.
    actions, owners = [], []
    action_id = 0
    for group in range(1, args.groups + 1):
        for _ in range(args.actions_per_group):
            action_id += 1
            due = today + dt.timedelta(days=rng.randint(-60, 60))
            actions.append(
                ActionItem(
                    id=action_id,
                    group=group,
                    title=f"Action {action_id}",
                    due_on=due,
                    status=rng.choice(("open", "open", "in_progress", "done", "done")),
                    visibility=rng.choice(VISIBILITIES),
                    created_by=members[group][0],
                    created_at=now - dt.timedelta(days=90),
                    updated_at=now - dt.timedelta(days=90),
                )
            )
            for owner in rng.sample(members[group], 2):
                owners.append(ActionOwner(action=action_id, user=owner))
    await insert_all(ActionItem, actions)
    await insert_all(ActionOwner, owners)

    # Reports: eight quarterly reports and four recommendations a group, a delivery per line.
    reports, deliveries = [], []
    report_id = 0
    for group in range(1, args.groups + 1):
        for number in range(12):
            report_id += 1
            submitted = now - dt.timedelta(days=60 * number + rng.randint(0, 20))
            to_board_only = number >= 8 and number % 2 == 0
            reports.append(
                Report(
                    id=report_id,
                    group=group,
                    kind="periodic" if number < 8 else "recommendation",
                    period="",
                    title=f"Report {report_id}",
                    body="Text.",
                    visibility="board" if to_board_only else "internal",
                    to_director=not to_board_only,
                    to_board=True,
                    status="submitted",
                    created_by=members[group][0],
                    created_at=submitted,
                    updated_at=submitted,
                    submitted_at=submitted,
                    submitted_by=members[group][0],
                    content_hash="0" * 64,
                )
            )
            for offset, recipient in enumerate(("director", "board")):
                if recipient == "director" and to_board_only:
                    continue
                answered = number > 1 or rng.random() < 0.5
                deliveries.append(
                    Delivery(
                        report=report_id,
                        line=(group - 1) * 2 + offset + 1,
                        recipient=recipient,
                        state="responded" if answered else "delivered",
                        delivered_at=submitted,
                        response_due_on=submitted.date() + dt.timedelta(days=30),
                        responded_at=submitted + dt.timedelta(days=20) if answered else None,
                        response="noted" if answered else "",
                    )
                )
    await insert_all(Report, reports)
    await insert_all(Delivery, deliveries)
    await reset_sequences()
    return {
        "users": len(users),
        "groups": len(groups),
        "memberships": len(memberships),
        "meetings": len(meetings),
        "agenda items": len(items),
        "decisions": len(decisions),
        "attendance rows": len(attendance),
        "actions": len(actions),
        "action owners": len(owners),
        "reports": len(reports),
        "deliveries": len(deliveries),
    }


async def reset_sequences() -> None:
    """Rows were inserted with their ids; PostgreSQL's sequences must follow."""
    from governance.core.db import get_engine, is_postgres

    if not is_postgres():
        return
    for table in (
        "app_user",
        "working_group",
        "reporting_line",
        "meeting",
        "agenda_item",
        "action_item",
        "report",
    ):
        await get_engine().run_ddl(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )


if __name__ == "__main__":
    raise SystemExit(main())
