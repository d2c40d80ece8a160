"""The scheduler's pulse job: reminders two days before a run closes, and closing runs.

Idempotent: a reminded invitation is flagged in the transaction that queues its reminder
(and the outbox's dedupe key would refuse a second one anyway), a closed run is not closed
again. One run that cannot be processed is logged and skipped; the others go on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from governance.core.audit import SYSTEM, EventScope, record_event
from governance.core.clock import organisation_today
from governance.core.db import write_transaction
from governance.core.isolation import SkippedItems
from governance.notifications import emails
from governance.pulses.schemas import REMIND_DAYS_BEFORE_CLOSE
from governance.pulses.services import invitation_link
from governance.pulses.tables import PulseInvitation, PulseRun


@dataclass
class PulseJobReport(SkippedItems):
    reminded: int = 0
    closed: int = 0

    def __str__(self) -> str:
        return (
            f"pulses: {self.reminded} reminders queued, {self.closed} runs closed; "
            + self.failures_summary()
        )


RUN_COLUMNS = (
    PulseRun.id,
    PulseRun.number,
    PulseRun.closes_on,
    PulseRun.visibility,
    PulseRun.pulse,
    PulseRun.pulse.title,
    PulseRun.pulse.group,
    PulseRun.pulse._.group._.name,
)


def _about(run: dict) -> emails.PulseAbout:  # type: ignore[type-arg]
    return emails.PulseAbout(
        run["pulse.group"],
        run["pulse.group.name"],
        run["pulse.title"],
        run["closes_on"],
        run["visibility"],
    )


async def _remind(run: dict) -> int:  # type: ignore[type-arg]
    """One reminder to each invitee of the run who has not answered and was not reminded."""
    async with write_transaction():
        pending = await PulseInvitation.select(
            PulseInvitation.id, PulseInvitation.staff, PulseInvitation.staff.email
        ).where(
            (PulseInvitation.run == run["id"])
            & (PulseInvitation.used == False)  # noqa: E712
            & (PulseInvitation.reminded == False)  # noqa: E712
            & PulseInvitation.staff.is_not_null()
        )
        invites = [
            emails.PulseInvite(
                run["id"],
                row["staff"],
                row["staff.email"],
                invitation_link(run["id"], row["staff"]),
            )
            for row in pending
            if row["staff.email"]
        ]
        queued = await emails.pulse_reminders(invites, _about(run))
        if pending:
            await PulseInvitation.update({PulseInvitation.reminded: True}).where(
                PulseInvitation.id.is_in([row["id"] for row in pending])
            )
    return queued


async def _close(run: dict) -> None:  # type: ignore[type-arg]
    async with write_transaction():
        closed = (
            await PulseRun.update({PulseRun.status: "closed"})
            .where((PulseRun.id == run["id"]) & (PulseRun.status == "open"))
            .returning(PulseRun.id)
        )
        if closed:
            await record_event(
                SYSTEM,
                "pulse.run_closed",
                "pulse_run",
                run["id"],
                f"Pulse {run['pulse']} run {run['number']} closed",
                EventScope(run["pulse.group"], run["visibility"]),
            )


async def pulse_sweep(today: dt.date | None = None) -> PulseJobReport:
    today = today or organisation_today()
    report = PulseJobReport()
    open_runs = await PulseRun.select(*RUN_COLUMNS).where(PulseRun.status == "open")
    for run in open_runs:
        with report.skipping(f"pulse run {run['id']}"):
            if run["closes_on"] < today:
                await _close(run)
                report.closed += 1
            elif run["closes_on"] - dt.timedelta(days=REMIND_DAYS_BEFORE_CLOSE) <= today:
                report.reminded += await _remind(run)
    return report


async def pulse_job() -> PulseJobReport:
    return await pulse_sweep()
