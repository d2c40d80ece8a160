"""The schedule's migrations upgrade a database of the previous shape, on the engine this run
tests (SQLite, or PostgreSQL in its pass): a fresh database is migrated to the shape before
them, given a group, its lines and periodic reports as they were kept then, and migrated
the rest of the way as `governance migrate` does. Its lines get their settings' first
version, and its periods their history, once, from what exists."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, datetime as dt, json

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards

from governance.accounts.tables import User
from governance.cli import apply_migrations, record_reporting_history
from governance.core.db import open_database
from governance.groups.tables import ReportingLine, ReportingLineSettings, WorkingGroup
from governance.reports.tables import Delivery, Report, ReportingPeriod

# The last migration of each app before the schedule was recorded.
BEFORE = {"groups": "2026-11-24T22:24:20:272950", "reports": "2026-11-24T22:54:49:224475"}
BEGAN = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def at(month, day):
    return dt.datetime(2026, month, day, 12, tzinfo=dt.UTC)


async def old_database():
    for app in BaseMigrationManager().get_sorted_app_names():
        result = await run_forwards(app, migration_id=BEFORE.get(app, "all"))
        assert result.success, result.message
    chair = (await User.insert(User(email="chair@example.org", display_name="Chair",
        password_hash="x", created_at=BEGAN)).returning(User.id))[0]["id"]
    # In SQL: today's table has columns (decision_rule) the old database does not.
    group = (await WorkingGroup.raw(
        "INSERT INTO working_group (name, slug, mandate, quorum_rule, quorum_count, created_at)"
        " VALUES ({}, {}, '', 'majority', 0, {}) RETURNING id", "Wellbeing", "wellbeing", BEGAN
    ))[0]["id"]
    lines = {}
    for recipient in ("director", "board"):
        rows = await ReportingLine.insert(ReportingLine(group=group, recipient=recipient,
            cadence="quarterly", report_due_days=30, response_days=30)).returning(ReportingLine.id)
        lines[recipient] = rows[0]["id"]
    reports = {}
    # On time, late, and a second report for 2026-Q2 (accepted then): the first counts.
    submissions = (("2026-Q1", at(4, 20)), ("2026-Q2", at(8, 10)), ("2026-Q2", at(8, 11)))
    for period, submitted in submissions:
        rows = await Report.insert(Report(group=group, kind="periodic", period=period,
            title=period, body="Text", status="submitted", created_by=chair,
            created_at=submitted, updated_at=submitted, submitted_at=submitted,
            submitted_by=chair)).returning(Report.id)
        reports.setdefault(period, rows[0]["id"])
        for recipient, line in lines.items():
            await Delivery.insert(Delivery(report=rows[0]["id"], line=line, recipient=recipient,
                delivered_at=submitted, response_due_on=submitted.date()))
    return lines, reports


async def main():
    async with open_database():
        lines, reports = await old_database()
        await apply_migrations()
        await record_reporting_history()
        await record_reporting_history()  # once: nothing more the second time
        versions = await ReportingLineSettings.select().order_by(ReportingLineSettings.line)
        periods = await ReportingPeriod.select().order_by(ReportingPeriod.id)
        duplicate_refused = False
        try:
            await ReportingPeriod.insert(ReportingPeriod(**{
                k: v for k, v in periods[0].items() if k != "id"}))
        except Exception:
            duplicate_refused = True
        print(json.dumps({
            "lines": lines,
            "reports": reports,
            "versions": [(v["line"], v["cadence"], v["report_due_days"],
                          v["made_at"].isoformat()) for v in versions],
            "periods": [(p["line"], p["period"], p["due_on"].isoformat(), p["outcome"],
                         p["report"]) for p in periods],
            "duplicate_refused": duplicate_refused,
        }))


asyncio.run(main())
"""


@contextmanager
def fresh_database(data_dir: Path) -> Iterator[str]:
    """A new, empty database on the engine of this run; dropped afterwards."""
    url = os.environ.get("GOVERNANCE_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{data_dir / 'upgrade.sqlite3'}"
        return
    parts = urlsplit(url)
    name = f"governance_upgrade_{secrets.token_hex(4)}"
    server = urlunsplit(parts._replace(path="/postgres"))

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(server)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    import asyncio

    asyncio.run(run(f"CREATE DATABASE {name}"))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def upgrade(database_url: str, data_dir: Path) -> dict:
    env = {
        **os.environ,
        "GOVERNANCE_DATABASE_URL": database_url,
        "GOVERNANCE_DATA_DIR": str(data_dir),
        "GOVERNANCE_SECRET_KEY": "upgrade-test-secret-key",
        "GOVERNANCE_TIMEZONE": "Europe/London",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("GOVERNANCE_TEST_DATABASE_URL", None)
    finished = subprocess.run(  # noqa: S603 - this interpreter, with the script above
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    return dict(json.loads(finished.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_an_old_database_is_upgraded_with_its_lines_and_periods_history() -> None:
    with tempfile.TemporaryDirectory() as folder, fresh_database(Path(folder)) as url:
        result = upgrade(url, Path(folder))
    lines, reports = result["lines"], result["reports"]
    assert sorted(map(tuple, result["versions"])) == sorted(
        (line, "quarterly", 30, "2026-01-05T09:00:00+00:00") for line in lines.values()
    )
    periods = {(line, period): rest for line, period, *rest in result["periods"]}
    for line in lines.values():
        assert periods[(line, "2026-Q1")] == ["2026-04-30", "on_time", reports["2026-Q1"]]
        assert periods[(line, "2026-Q2")] == ["2026-07-30", "late", reports["2026-Q2"]]
        assert periods[(line, "2026-Q3")][:1] == ["2026-10-30"]
        assert periods[(line, "2026-Q3")][2] is None
    assert len(periods) == len(result["periods"])  # one row per line and period
    assert result["duplicate_refused"]
