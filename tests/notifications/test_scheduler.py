"""The schedule, the lease, two schedulers against one database, catching up after a stop,
and a clean stop on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from governance.accounts.tables import User
from governance.core.tables import OutboundEmail, SchedulerLease
from governance.scheduler import (
    IN_PROCESS_ENV,
    JOBS,
    LEASE_SECONDS,
    SCHEDULE,
    SKIPPED,
    GovernanceScheduler,
    Lease,
    at,
    in_process_scheduler,
    next_runs,
)
from tests.helpers import found
from tests.notifications.conftest import START, Mail, People, make_action

REPO_ROOT = Path(__file__).resolve().parents[2]
SECONDS = dt.timedelta(seconds=1)


# --- the schedule -------------------------------------------------------------------------


def test_the_schedule_has_the_reminder_sweep_delivery_and_digests():
    # What falls due is queued before the outbox is sent, when jobs run one after another.
    assert [job.name for job in SCHEDULE] == [
        "reporting-periods",
        "reminders",
        "digests",
        "meeting-notices",
        "resolutions",
        "pulses",
        "deliver-outbox",
        "transparency",
        "backup",
    ]
    assert str(JOBS["reminders"].trigger) == "every 5 minutes"
    assert str(JOBS["meeting-notices"].trigger) == "every 15 minutes"
    assert str(JOBS["resolutions"].trigger) == "every 5 minutes"
    assert str(JOBS["deliver-outbox"].trigger) == "every 1 minute"
    assert str(JOBS["digests"].trigger) == "at minute=0"
    assert str(JOBS["transparency"].trigger) == "at hour=6 minute=15"
    assert str(JOBS["reporting-periods"].trigger) == "at minute=5"


def test_weekdays_are_names_never_numbers():
    trigger = at(day_of_week="mon,fri", hour=6).build(ZoneInfo("UTC"))
    assert isinstance(trigger, CronTrigger)
    with pytest.raises(ValueError, match="names"):
        at(day_of_week="1", hour=6)
    for job in SCHEDULE:
        assert not any(ch.isdigit() for ch in getattr(job.trigger, "day_of_week", "*"))


def test_next_runs_follow_the_triggers():
    now = dt.datetime(2026, 11, 2, 9, 17, 30, tzinfo=dt.UTC)
    runs = {job.name: when for job, when in next_runs(now)}
    assert runs["reminders"] == now + dt.timedelta(minutes=5)
    assert runs["deliver-outbox"] == now + dt.timedelta(minutes=1)
    assert runs["digests"] == dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)


# --- the lease ----------------------------------------------------------------------------


async def test_one_holder_at_a_time_and_a_takeover_once_it_expires(clock):
    first, second = Lease(holder="first"), Lease(holder="second")
    assert await first.acquire()
    assert not await second.acquire()
    assert first.held() and not second.held()

    clock.shift(dt.timedelta(seconds=20))
    assert await first.acquire()  # renewed for another LEASE_SECONDS
    clock.shift(dt.timedelta(seconds=20))
    assert not await second.acquire()

    # The first stops renewing: once its lease has run out, the second takes it.
    clock.shift(dt.timedelta(seconds=LEASE_SECONDS))
    assert not first.held()
    assert await second.acquire()
    assert not await first.acquire()
    row = found(await SchedulerLease.select().first())
    assert row["holder"] == "second"
    assert await SchedulerLease.count() == 1


async def test_a_released_lease_is_free_at_once(clock):
    first, second = Lease(holder="first"), Lease(holder="second")
    assert await first.acquire()
    await first.release()
    assert not first.held()
    clock.shift(SECONDS)
    assert await second.acquire()


async def test_racing_for_a_free_lease_only_one_wins():
    leases = [Lease(holder=f"racer-{n}") for n in range(6)]
    results = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert sum(results) == 1
    winner = leases[results.index(True)]
    assert found(await SchedulerLease.select().first())["holder"] == winner.holder


# --- two schedulers -----------------------------------------------------------------------


async def test_two_schedulers_one_runs_jobs_the_other_waits_then_takes_over(
    clock, people: People, mail: Mail
):
    first = GovernanceScheduler(holder="first")
    second = GovernanceScheduler(holder="second")
    await make_action(people.group_id, [people.member], START.date() + dt.timedelta(days=3))

    assert await first.renew_lease()
    assert not await second.renew_lease()
    assert set((await second.run_all()).values()) == {SKIPPED}
    results = await first.run_all()
    assert results["reminders"].queued == 1
    assert results["deliver-outbox"].sent == 1

    # The first dies without letting go: the second takes over once the lease expires.
    await make_action(people.group_id, [people.member2], START.date() + dt.timedelta(days=3))
    clock.shift(dt.timedelta(seconds=10))
    assert not await second.renew_lease()
    clock.shift(dt.timedelta(seconds=LEASE_SECONDS))
    assert await first.run_job("reminders") is SKIPPED  # its lease ran out
    assert await second.renew_lease()
    assert not await first.renew_lease()
    results = await second.run_all()
    assert (results["reminders"].queued, results["reminders"].already_queued) == (1, 1)
    assert results["deliver-outbox"].sent == 1
    assert set((await first.run_all()).values()) == {SKIPPED}

    assert sorted(str(m["To"]) for m in mail.messages) == [
        "member2@example.org",
        "member@example.org",
    ]
    keys = [row["dedupe_key"] for row in await OutboundEmail.select(OutboundEmail.dedupe_key)]
    assert len(keys) == len(set(keys)) == 2


# Only a guard against a hang: every wait below is for an event, however long it takes.
HANG_GUARD_SECONDS = 300.0


async def wait_for(condition, seconds: float = HANG_GUARD_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_a_stopped_scheduler_catches_up_on_restart_once(people: People, mail: Mail):
    """Reminders and a digest fall due while no scheduler runs; a restarted scheduler sends
    them at once, and a second restart sends nothing more."""
    import time_machine

    await User.update({User.digest_frequency: "daily", User.timezone: "Europe/London"}).where(
        User.id == people.member
    )
    # Due on Friday: its first reminder falls due on Tuesday, three days before.
    await make_action(people.group_id, [people.member], START.date() + dt.timedelta(days=4))

    with time_machine.travel(START - dt.timedelta(hours=4), tick=True):  # 05:00, Monday
        scheduler = GovernanceScheduler(holder="before")
        await scheduler.start()
        await wait_for(lambda: _lease_holder_is("before"))
        await asyncio.wait_for(scheduler.caught_up.wait(), HANG_GUARD_SECONDS)
        await scheduler.stop()
    assert await OutboundEmail.count() == 0  # nothing was due at 05:00 on Monday

    # Down all Monday and Tuesday night; back on Tuesday at 10:00.
    with time_machine.travel(START + dt.timedelta(days=1, hours=1), tick=True):
        scheduler = GovernanceScheduler(holder="after")
        await scheduler.start()
        try:
            await wait_for(lambda: _sent_count(2))
        finally:
            await scheduler.stop()
        restarted = GovernanceScheduler(holder="again")
        await restarted.start()
        try:
            await asyncio.wait_for(restarted.caught_up.wait(), HANG_GUARD_SECONDS)
        finally:
            await restarted.stop()

    subjects = sorted(str(m["Subject"]) for m in mail.to("member@example.org"))
    assert len(subjects) == 2
    assert subjects[0].startswith("Action due on 6 Nov 2026")
    assert subjects[1].startswith("Your daily governance digest, 3 Nov 2026")
    assert await OutboundEmail.count() == 2


async def _lease_holder_is(holder: str) -> bool:
    row = await SchedulerLease.select().first()
    return bool(row and row["holder"] == holder)


async def _sent_count(count: int) -> bool:
    return await OutboundEmail.count().where(OutboundEmail.status == "sent") >= count


async def test_the_in_process_scheduler_runs_only_when_serve_asks(monkeypatch):
    monkeypatch.setenv(IN_PROCESS_ENV, "0")
    async with in_process_scheduler():
        assert await SchedulerLease.count() == 0

    monkeypatch.setenv(IN_PROCESS_ENV, "1")
    async with in_process_scheduler():
        row = found(await SchedulerLease.select().first())
        assert row["holder"] and row["expires_at"] > dt.datetime.now(dt.UTC)
    row = found(await SchedulerLease.select().first())
    assert row["expires_at"] <= dt.datetime.now(dt.UTC)  # let go on the way out


# --- the command --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
async def test_governance_scheduler_stops_cleanly_on_a_signal(stop_with, tmp_path):
    env = {**os.environ, "GOVERNANCE_LOG_LEVEL": "INFO"}
    log_path = tmp_path / "scheduler.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: ASYNC220 - a real process, watched with polling
            [sys.executable, "-m", "governance.cli", "scheduler"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        await wait_for(lambda: _lease_taken())
        process.send_signal(stop_with)
        await wait_for(lambda: _exited(process))
    finally:
        if process.poll() is None:
            process.kill()
    output = log_path.read_text()
    assert process.returncode == 0, output
    assert "stopped" in output
    row = found(await SchedulerLease.select().first())
    assert row["expires_at"] <= dt.datetime.now(dt.UTC)


async def _exited(process: subprocess.Popen) -> bool:
    return process.poll() is not None


async def _lease_taken() -> bool:
    row = await SchedulerLease.select().first()
    return bool(row and row["holder"] and row["expires_at"] > dt.datetime.now(dt.UTC))


@pytest.mark.slow
def test_jobs_list_and_jobs_run_from_the_command_line():
    listing = subprocess.run(
        [sys.executable, "-m", "governance.cli", "jobs", "list"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("reminders", "deliver-outbox", "digests"):
        assert name in listing
    assert "Lease:" in listing
    run = subprocess.run(
        [sys.executable, "-m", "governance.cli", "jobs", "run", "reminders"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.startswith("reminders: 0 queued, 0 already queued, 0 muted; 0 failed")
    missing = subprocess.run(
        [sys.executable, "-m", "governance.cli", "jobs", "run", "nonsense"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2


@pytest.mark.slow
async def test_governance_serve_runs_the_scheduler_in_process_and_stops_on_sigterm(tmp_path):
    from tests.helpers import free_port

    port = free_port()
    # Output to a file, not a pipe: a pipe nobody reads fills up and blocks the process.
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: ASYNC220, S603 - a real process, watched with polling
            [sys.executable, "-m", "governance.cli", "serve", "--port", str(port)],
            cwd=REPO_ROOT,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # Started means both: the scheduler holds the lease and the server answers (a
        # signal during start-up would stop uvicorn before its shutdown runs).
        await wait_for(lambda: _lease_taken())
        await wait_for(lambda: _answers(port))
        process.send_signal(signal.SIGTERM)
        await wait_for(lambda: _exited(process))
    finally:
        if process.poll() is None:
            process.kill()
    output = log_path.read_text()
    # Uvicorn shuts down gracefully, then re-raises the signal so the exit status shows it.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "stopped" in output
    row = found(await SchedulerLease.select().first())
    assert row["expires_at"] <= dt.datetime.now(dt.UTC)


@pytest.mark.slow
async def test_governance_serve_no_scheduler_leaves_the_lease_alone():
    from tests.helpers import free_port

    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220, S603 - a real process, watched with polling
        [sys.executable, "-m", "governance.cli", "serve", "--port", str(port), "--no-scheduler"],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await wait_for(lambda: _answers(port))
        assert await SchedulerLease.count() == 0
        process.send_signal(signal.SIGTERM)
        await wait_for(lambda: _exited(process))
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode in (0, -signal.SIGTERM)


async def _answers(port: int) -> bool:
    import httpx

    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_web_app_writes_log_lines_at_once_so_a_shutdown_keeps_its_last_lines():
    """Uvicorn ends a SIGTERM'd process by raising the signal again, so atexit hooks do not
    run: a queued log handler drained by one would lose "Scheduler ... stopped"."""
    import logging
    from logging.handlers import QueueHandler

    from governance.app import create_app

    create_app()
    for name in ("governance.scheduler", "litestar"):
        logger: logging.Logger | None = logging.getLogger(name)
        handlers = []
        while logger is not None:
            handlers.extend(logger.handlers)
            logger = logger.parent if logger.propagate else None
        assert handlers, name
        assert not any(isinstance(handler, QueueHandler) for handler in handlers), name
