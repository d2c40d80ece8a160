"""The one job schedule, and the scheduler that runs it while it holds the lease.

APScheduler only ticks. Every job asks the database what is due, so a scheduler that was
down catches up on its next tick, and running a job twice does nothing the second time.

Exactly one scheduler runs jobs at a time. `governance serve` runs one inside the web
process (unless `--no-scheduler`), `governance scheduler` runs one alone; each holds or waits
for a **lease row** in the database (`SchedulerLease`): the holder renews it every
`RENEW_SECONDS` for `LEASE_SECONDS`; another scheduler keeps trying and takes it over once it
has expired, then runs every job at once to catch up. A scheduler that stops cleanly (SIGTERM,
SIGINT, the end of the web server's lifespan) lets its lease go at once. Taking the lease is a
conditional UPDATE inside a write transaction (IMMEDIATE on SQLite, a row lock on
PostgreSQL), so two schedulers can never both hold it. Lease times come from the hosts'
clocks, which are assumed to agree within a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from governance.core.clock import organisation_zone, utcnow
from governance.core.db import write_transaction
from governance.core.email import OUTBOX_CLAIMANT, release_claims_of
from governance.core.tables import JobRun, SchedulerLease
from governance.notifications.jobs import (
    deliver_outbox_job,
    digest_job,
    meeting_notice_job,
    reminder_sweep_job,
)
from governance.operations.jobs import nightly_backup_job
from governance.pulses.jobs import pulse_job
from governance.reports.jobs import reporting_periods_job
from governance.resolutions.jobs import resolutions_job
from governance.transparency.jobs import transparency_job

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_SECONDS = 30
RENEW_SECONDS = 10
# How long a stopping scheduler lets running jobs finish before cancelling them.
STOP_GRACE_SECONDS = 3.0
# Set by `governance serve` (to 1, or 0 with --no-scheduler) for its web processes.
IN_PROCESS_ENV = "GOVERNANCE_IN_PROCESS_SCHEDULER"
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Every:
    """An interval trigger: every(minutes=5)."""

    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    def build(self, timezone: ZoneInfo) -> BaseTrigger:
        return IntervalTrigger(
            weeks=self.weeks,
            days=self.days,
            hours=self.hours,
            minutes=self.minutes,
            seconds=self.seconds,
            timezone=timezone,
        )

    def __str__(self) -> str:
        parts = [
            f"{value} {unit.removesuffix('s') if value == 1 else unit}"
            for unit, value in (
                ("weeks", self.weeks),
                ("days", self.days),
                ("hours", self.hours),
                ("minutes", self.minutes),
                ("seconds", self.seconds),
            )
            if value
        ]
        return "every " + " ".join(parts)


@dataclass(frozen=True)
class At:
    """A cron trigger in the organisation's time zone: at(minute=0), at(day_of_week="mon",
    hour=6). Weekdays and months are written as names, never numbers."""

    month: str = "*"
    day: str = "*"
    day_of_week: str = "*"
    hour: str = "*"
    minute: str = "0"

    def __post_init__(self) -> None:
        for name in self.day_of_week.replace("-", ",").split(","):
            if name != "*" and name not in WEEKDAY_NAMES:
                raise ValueError(f"write weekdays as names ({', '.join(WEEKDAY_NAMES)}): {name!r}")

    def build(self, timezone: ZoneInfo) -> BaseTrigger:
        return CronTrigger(
            month=self.month,
            day=self.day,
            day_of_week=self.day_of_week,
            hour=self.hour,
            minute=self.minute,
            timezone=timezone,
        )

    def __str__(self) -> str:
        fields = (
            ("month", self.month),
            ("day", self.day),
            ("weekday", self.day_of_week),
            ("hour", self.hour),
            ("minute", self.minute),
        )
        return "at " + " ".join(f"{name}={value}" for name, value in fields if value != "*")


def every(**units: int) -> Every:
    return Every(**units)


def at(**fields: str | int) -> At:
    return At(**{name: str(value) for name, value in fields.items()})


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    trigger: Every | At
    run: Callable[[], Awaitable[Any]]
    does: str


# fmt: off
SCHEDULE: tuple[ScheduledJob, ...] = (
    #            name              trigger           job                 what it does
    # Records each line's periods as they start, their reports and those missed; hourly, so it
    # catches up after downtime; first, so the reminders read a record kept up to date.
    ScheduledJob("reporting-periods", at(minute=5), reporting_periods_job, "record periods"),
    ScheduledJob("reminders",      every(minutes=5), reminder_sweep_job, "queue reminders now due"),
    ScheduledJob("digests",        at(minute=0),     digest_job,         "digests of 07:00 local"),
    # A meeting's notice 7 days ahead when its chair has not sent it (groups that want it).
    ScheduledJob("meeting-notices", every(minutes=15), meeting_notice_job, "notices 7 days ahead"),
    # Closes written resolutions whose time has come; reminds non-voters a day before.
    ScheduledJob("resolutions",    every(minutes=5), resolutions_job,    "close and remind votes"),
    # Pulse runs: one reminder 2 days before a run closes; runs past their date are closed.
    ScheduledJob("pulses",         at(minute=20),    pulse_job,          "pulse reminders, close"),
    ScheduledJob("deliver-outbox", every(minutes=1), deliver_outbox_job, "send queued email"),
    # Drafts each ended period's transparency reports once; daily, so it catches up after downtime.
    ScheduledJob("transparency",   at(hour=6, minute=15), transparency_job, "draft ended periods"),
    # Once a day (a copy already made today is kept); daily, so it catches up after downtime.
    ScheduledJob("backup",         at(hour=2, minute=30), nightly_backup_job, "nightly backup"),
)
# fmt: on
JOBS: dict[str, ScheduledJob] = {job.name: job for job in SCHEDULE}


def next_runs(now: dt.datetime | None = None) -> list[tuple[ScheduledJob, dt.datetime | None]]:
    """Each job with the next time its trigger fires, counting from now."""
    zone = organisation_zone()
    now = (now or utcnow()).astimezone(zone)
    result = []
    for job in SCHEDULE:
        trigger = job.trigger.build(zone)
        if isinstance(trigger, IntervalTrigger):
            # A running scheduler fires an interval job that long after it starts.
            result.append((job, now + trigger.interval))
        else:
            result.append((job, trigger.get_next_fire_time(None, now)))
    return result


# --- the lease --------------------------------------------------------------------------


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Lease:
    """The right to run jobs, held in one database row and renewed before it expires."""

    holder: str = field(default_factory=new_holder_id)
    name: str = LEASE_NAME
    seconds: int = LEASE_SECONDS
    expires_at: dt.datetime | None = None

    def held(self) -> bool:
        return self.expires_at is not None and utcnow() < self.expires_at

    async def acquire(self) -> bool:
        """Renews the lease if it is ours, takes it if it has expired; True if we hold it."""
        now = utcnow()
        until = now + dt.timedelta(seconds=self.seconds)
        async with write_transaction():
            await SchedulerLease.insert(
                SchedulerLease(name=self.name, holder="", acquired_at=now, expires_at=now)
            ).on_conflict(target=SchedulerLease.name, action="DO NOTHING")
            # A lease is valid while now < expires_at. Both UPDATEs test their condition on
            # the row as it is when they run: on PostgreSQL a racing transaction waits for
            # the row lock and re-checks; on SQLite write transactions run one at a time.
            rows = (
                await SchedulerLease.update({SchedulerLease.expires_at: until})
                .where((SchedulerLease.name == self.name) & (SchedulerLease.holder == self.holder))
                .returning(SchedulerLease.holder)
            )
            if not rows:
                previous = await SchedulerLease.select(SchedulerLease.holder).where(
                    (SchedulerLease.name == self.name) & (SchedulerLease.expires_at <= now)
                )
                rows = (
                    await SchedulerLease.update(
                        {
                            SchedulerLease.holder: self.holder,
                            SchedulerLease.acquired_at: now,
                            SchedulerLease.expires_at: until,
                        }
                    )
                    .where((SchedulerLease.name == self.name) & (SchedulerLease.expires_at <= now))
                    .returning(SchedulerLease.holder)
                )
                if rows and previous and previous[0]["holder"] not in {"", self.holder}:
                    # Taken over from a holder that stopped renewing (it died, or lost
                    # the database): its outbox claims are released now, in this
                    # transaction, instead of waiting out their expiry.
                    await release_claims_of(previous[0]["holder"])
        self.expires_at = until if rows else None
        return bool(rows)

    async def release(self) -> None:
        """Lets the lease go at once, if it is ours, so another scheduler can take it."""
        self.expires_at = None
        async with write_transaction():
            await SchedulerLease.update({SchedulerLease.expires_at: utcnow()}).where(
                (SchedulerLease.name == self.name) & (SchedulerLease.holder == self.holder)
            )


async def record_job_run(
    name: str, holder: str, started_at: dt.datetime, succeeded: bool, outcome: str
) -> None:
    """Keeps the last run of each job, for the operations page; never raises (a job's
    outcome matters more than its bookkeeping)."""
    values: dict[Any, Any] = {
        JobRun.holder: holder,
        JobRun.started_at: started_at,
        JobRun.finished_at: utcnow(),
        JobRun.succeeded: succeeded,
        JobRun.outcome: outcome[:500],
    }
    try:
        async with write_transaction():
            updated = await JobRun.update(values).where(JobRun.name == name).returning(JobRun.id)
            if not updated:
                fields: dict[str, Any] = {
                    column._meta.name: value for column, value in values.items()
                }
                row = JobRun(name=name, **fields)
                await JobRun.insert(row).on_conflict(target=JobRun.name, action="DO NOTHING")
    except Exception:
        logger.exception("The run of job %s could not be recorded", name)


async def last_job_runs() -> dict[str, dict[str, Any]]:
    rows = await JobRun.select()
    return {row["name"]: row for row in rows}


async def lease_status(name: str = LEASE_NAME) -> dict[str, Any] | None:
    row = await SchedulerLease.select().where(SchedulerLease.name == name).first()
    return row  # type: ignore[no-any-return]


# --- the scheduler ----------------------------------------------------------------------


class SkippedJob:
    """What run_job returns when this scheduler does not hold the lease."""

    def __repr__(self) -> str:
        return "skipped: another scheduler holds the lease"


SKIPPED = SkippedJob()


class GovernanceScheduler:
    """APScheduler's AsyncIOScheduler with the schedule above, running jobs only while it
    holds the lease."""

    def __init__(
        self,
        holder: str | None = None,
        *,
        jobs: tuple[ScheduledJob, ...] = SCHEDULE,
        lease_seconds: int = LEASE_SECONDS,
        renew_seconds: int = RENEW_SECONDS,
        stop_grace_seconds: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.lease = Lease(holder=holder or new_holder_id(), seconds=lease_seconds)
        self.jobs = {job.name: job for job in jobs}
        self.renew_seconds = renew_seconds
        self.stop_grace_seconds = stop_grace_seconds
        self.zone = organisation_zone()
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()
        # Set when the catch-up run after taking the lease has finished (tests and
        # operators wait for this event instead of for a time).
        self.caught_up = asyncio.Event()

    @property
    def holder(self) -> str:
        return self.lease.holder

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    async def start(self) -> None:
        # This module logs each job's outcome; APScheduler's own notes on every run would
        # repeat it each minute. An explicitly configured level is left as it is.
        apscheduler_logger = logging.getLogger("apscheduler")
        if apscheduler_logger.level == logging.NOTSET:
            apscheduler_logger.setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler(
            timezone=self.zone,
            event_loop=asyncio.get_running_loop(),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        for job in self.jobs.values():
            scheduler.add_job(
                self._guarded(job.name), job.trigger.build(self.zone), id=job.name, name=job.name
            )
        scheduler.add_job(
            self.renew_lease,
            IntervalTrigger(seconds=self.renew_seconds, timezone=self.zone),
            id="lease",
            name="lease",
        )
        scheduler.start()
        self._scheduler = scheduler
        logger.info("Scheduler %s started", self.holder)
        await self.renew_lease()

    async def renew_lease(self) -> bool:
        """Renews or takes the lease; on taking it, runs every job at once to catch up."""
        had_it = self.lease.held()
        try:
            holds = await self.lease.acquire()
        except Exception:
            logger.exception("Scheduler %s could not reach the lease", self.holder)
            return self.lease.held()
        if holds and not had_it:
            logger.info("Scheduler %s holds the lease; running every job now", self.holder)
            self.catch_up()
        elif had_it and not holds:
            logger.warning("Scheduler %s lost the lease; waiting", self.holder)
        return holds

    def catch_up(self) -> None:
        """Runs every job now, one after the other in the schedule's order (what is due is
        queued before the outbox is sent), in the background."""
        if self._scheduler is None or not self._scheduler.running:
            return
        self.caught_up.clear()
        asyncio.get_running_loop().create_task(self._tracked(self._catch_up))

    async def _catch_up(self) -> None:
        try:
            await self.run_all()
        finally:
            self.caught_up.set()
            logger.info("Scheduler %s caught up", self.holder)

    async def _tracked(self, work: Callable[[], Awaitable[Any]]) -> Any:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            return await work()
        finally:
            if task is not None:
                self._running.discard(task)

    def _guarded(self, name: str) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:
            return await self._tracked(lambda: self.run_job(name))

        run.__name__ = f"run_{name.replace('-', '_')}"
        return run

    async def run_job(self, name: str) -> Any:
        """Runs one job if this scheduler holds the lease; errors are logged, not raised."""
        if not self.lease.held():
            logger.debug("Scheduler %s skips %s: no lease", self.holder, name)
            return SKIPPED
        # The outbox rows this job claims are this lease holder's, so that whoever takes the
        # lease over from a dead holder can release them.
        claimant = OUTBOX_CLAIMANT.set(self.holder)
        started = utcnow()
        try:
            result = await self.jobs[name].run()
        except Exception as error:
            logger.exception("Job %s failed", name)
            await record_job_run(name, self.holder, started, False, f"failed: {error!r}")
            return None
        finally:
            OUTBOX_CLAIMANT.reset(claimant)
        # A job that skipped broken items says how many; the operator must hear of it.
        level = logging.WARNING if getattr(result, "failed", 0) else logging.INFO
        logger.log(level, "Job %s: %s", name, result)
        await record_job_run(name, self.holder, started, True, str(result))
        return result

    async def run_all(self) -> dict[str, Any]:
        """Every job once, in the schedule's order."""
        return {name: await self.run_job(name) for name in self.jobs}

    async def stop(self) -> None:
        """Stops ticking, lets running jobs finish for a moment, then lets the lease go."""
        try:
            await self._stop_jobs()
            await self.lease.release()
        except Exception:
            logger.exception("Scheduler %s could not release the lease", self.holder)
        finally:
            logger.info("Scheduler %s stopped", self.holder)

    async def _stop_jobs(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)
        running = [task for task in self._running if not task.done()]
        if running:
            _, pending = await asyncio.wait(running, timeout=self.stop_grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1)


async def run_until_signalled(scheduler: GovernanceScheduler | None = None) -> None:
    """`governance scheduler`: runs until SIGTERM or SIGINT, then stops cleanly."""
    scheduler = scheduler or GovernanceScheduler()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopping.set)
    try:
        await scheduler.start()
        await stopping.wait()
    finally:
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signal_number)
        await scheduler.stop()


def in_process_enabled() -> bool:
    return os.environ.get(IN_PROCESS_ENV, "").lower() in {"1", "true", "yes"}


@contextlib.asynccontextmanager
async def in_process_scheduler(_: Any = None) -> AsyncIterator[None]:
    """A lifespan for the web app: runs the scheduler in-process when `governance serve`
    asked for it. Enter it after the database lifespan, so it stops before the pool closes."""
    if not in_process_enabled():
        yield
        return
    scheduler = GovernanceScheduler()
    await scheduler.start()
    try:
        yield
    finally:
        await scheduler.stop()
