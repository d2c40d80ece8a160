"""The operations page and its JSON: database, last backup, outbox, scheduler, audit chain."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from governance.core.audit import SYSTEM, record_event
from governance.core.clock import utcnow
from governance.core.db import is_postgres, write_transaction
from governance.core.tables import OutboundEmail
from governance.operations.backups import create_backup
from governance.scheduler import SCHEDULE, GovernanceScheduler, record_job_run
from tests.factories import make_user
from tests.helpers import sign_in


async def _outbox(status: str, key: str, sent: bool = False) -> None:
    async with write_transaction():
        await OutboundEmail.insert(
            OutboundEmail(
                recipient="someone@example.org",
                template="invitation",
                context={},
                dedupe_key=key,
                status=status,
                next_attempt_at=utcnow(),
                created_at=utcnow(),
                sent_at=utcnow() if sent else None,
            )
        )


async def test_the_status_tells_an_admin_how_the_service_runs(
    client: httpx.AsyncClient, tmp_path: Path
):
    admin = await make_user("admin@example.org", "Admin", admin=True)
    for number, status in enumerate(["queued", "queued", "parked", "sent"]):
        await _outbox(status, f"k{number}", sent=status == "sent")
    async with write_transaction():
        await record_event(SYSTEM, "test.done", "thing", 1, "something happened")
    made = await asyncio.to_thread(create_backup, tmp_path / "copy")
    scheduler = GovernanceScheduler(holder="status-test")
    assert await scheduler.lease.acquire()
    await record_job_run("reminders", "status-test", utcnow(), True, "3 queued")
    await record_job_run("digests", "status-test", utcnow(), False, "failed: boom")
    await sign_in(client, admin)

    answer = await client.get("/api/v1/admin/status")
    page = await client.get("/admin/status/")
    await scheduler.lease.release()

    assert answer.status_code == 200
    status = answer.json()
    assert status["database_engine"] == ("PostgreSQL" if is_postgres() else "SQLite")
    assert status["database_size_bytes"] > 0
    assert status["last_backup"]["sha256"] == made.sha256
    assert (status["outbox_waiting"], status["outbox_parked"], status["outbox_sent_today"]) == (
        2,
        1,
        1,
    )
    assert status["lease_holder"] == "status-test" and status["lease_held"]
    jobs = {job["name"]: job for job in status["jobs"]}
    assert list(jobs) == [job.name for job in SCHEDULE]
    assert (jobs["reminders"]["succeeded"], jobs["reminders"]["outcome"]) == (True, "3 queued")
    assert jobs["digests"]["succeeded"] is False
    assert jobs["backup"]["last_started_at"] is None
    assert status["audit_chain_intact"] and status["audit_events_checked"] == 1
    assert page.status_code == 200
    for words in ("Lease held by", "status-test", "Failed", "Intact: 1 events checked", made.path):
        assert words in page.text


async def test_the_scheduler_records_each_jobs_last_run():
    scheduler = GovernanceScheduler(holder="recorder")
    assert await scheduler.lease.acquire()
    try:
        await scheduler.run_job("reminders")
    finally:
        await scheduler.lease.release()

    from governance.scheduler import last_job_runs

    runs = await last_job_runs()
    assert runs["reminders"]["holder"] == "recorder"
    assert runs["reminders"]["succeeded"]
