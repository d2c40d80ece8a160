"""Reads of operations: everything held about one person (their data export).

The export is about the person alone: their own rows, and of what those rows belong to
only the title or name they saw (a meeting's title, a group's name). Other people are never
named in it; an update to an action they own says whether they wrote it, not who else did,
and any other email address in an audit summary is blanked.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import msgspec

from governance.accounts.policy import CurrentUser
from governance.accounts.tables import ApiToken, LoginAttempt, User, UserSession
from governance.actions.tables import ActionOwner, ActionUpdate
from governance.core.audit import verify_chain
from governance.core.clock import organisation_today, organisation_zone, utcnow
from governance.core.db import get_engine, one_row
from governance.core.email import STATUS_PARKED, STATUS_QUEUED, STATUS_SENT
from governance.core.errors import PermissionDenied
from governance.core.tables import AuditEvent, JobRun, OutboundEmail, SchedulerLease
from governance.documents.queries import documents_added_by
from governance.groups.tables import Membership
from governance.meetings.tables import Attendance, ConflictOfInterest, MeetingReply, MinutesComment
from governance.operations.backups import last_backup
from governance.operations.schemas import BackupView, JobRunView, PersonalData, StatusView
from governance.reports.tables import (
    BoardResponseProposal,
    Delivery,
    ProposalConcurrence,
    Report,
)
from governance.resolutions.tables import ResolutionVote, WrittenResolution
from governance.settings import Settings, get_settings

LEASE_NAME = "scheduler"  # the scheduler's lease (governance/scheduler.py)

EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
ANOTHER_PERSON = "[another person]"
NO_SUCH_PERSON = "No account with that email."


async def person_id(email: str) -> int:
    row = await one_row(
        User.select(User.id).where(User.email == email.strip().lower()), NO_SUCH_PERSON
    )
    return int(row["id"])


async def _account(user_id: int) -> dict[str, Any]:
    return await one_row(  # type: ignore[no-any-return]
        User.select(
            User.id,
            User.email,
            User.display_name,
            User.is_active,
            User.is_admin,
            User.is_director,
            User.is_board,
            User.timezone,
            User.digest_frequency,
            User.digest_weekday,
            User.notification_categories,
            User.created_at,
            User.last_login_at,
        ).where(User.id == user_id),
        NO_SUCH_PERSON,
    )


async def _memberships(user_id: int) -> list[dict[str, Any]]:
    return await Membership.select(  # type: ignore[no-any-return]
        Membership.group.name.as_alias("group"),
        Membership.role,
        Membership.starts_on,
        Membership.ends_on,
    ).where(Membership.user == user_id)


async def _attendance(user_id: int) -> list[dict[str, Any]]:
    return await Attendance.select(  # type: ignore[no-any-return]
        Attendance.meeting._.group._.name.as_alias("group"),
        Attendance.meeting.title.as_alias("meeting"),
        Attendance.meeting.starts_at.as_alias("starts_at"),
        Attendance.mode,
    ).where(Attendance.user == user_id)


async def _conflicts(user_id: int) -> list[dict[str, Any]]:
    return await ConflictOfInterest.select(  # type: ignore[no-any-return]
        ConflictOfInterest.agenda_item._.meeting._.title.as_alias("meeting"),
        ConflictOfInterest.agenda_item.title.as_alias("agenda_item"),
        ConflictOfInterest.description,
    ).where(ConflictOfInterest.user == user_id)


async def _actions(user_id: int) -> list[dict[str, Any]]:
    owned = await ActionOwner.select(
        ActionOwner.action.id.as_alias("id"),
        ActionOwner.action._.group._.name.as_alias("group"),
        ActionOwner.action.title.as_alias("title"),
        ActionOwner.action.status.as_alias("status"),
        ActionOwner.action.due_on.as_alias("due_on"),
    ).where(ActionOwner.user == user_id)
    ids = [row["id"] for row in owned]
    updates = (
        await ActionUpdate.select(
            ActionUpdate.action,
            ActionUpdate.author,
            ActionUpdate.body,
            ActionUpdate.status_from,
            ActionUpdate.status_to,
            ActionUpdate.created_at,
        ).where(ActionUpdate.action.is_in(ids))
        if ids
        else []
    )
    for action in owned:
        action["updates"] = [
            {
                "written_by_you": update["author"] == user_id,
                # Another person's words are theirs, not this person's data.
                "body": update["body"] if update["author"] == user_id else "",
                "status_from": update["status_from"],
                "status_to": update["status_to"],
                "created_at": update["created_at"],
            }
            for update in updates
            if update["action"] == action["id"]
        ]
    return owned  # type: ignore[no-any-return]


async def _updates_written(user_id: int) -> list[dict[str, Any]]:
    return await ActionUpdate.select(  # type: ignore[no-any-return]
        ActionUpdate.action.title.as_alias("action"),
        ActionUpdate.body,
        ActionUpdate.status_from,
        ActionUpdate.status_to,
        ActionUpdate.created_at,
    ).where(ActionUpdate.author == user_id)


async def _meeting_replies(user_id: int) -> list[dict[str, Any]]:
    return await MeetingReply.select(  # type: ignore[no-any-return]
        MeetingReply.meeting._.group._.name.as_alias("group"),
        MeetingReply.meeting.title.as_alias("meeting"),
        MeetingReply.meeting.starts_at.as_alias("starts_at"),
        MeetingReply.mode,
        MeetingReply.replied_at,
    ).where(MeetingReply.user == user_id)


async def _resolutions_proposed(user_id: int) -> list[dict[str, Any]]:
    return await WrittenResolution.select(  # type: ignore[no-any-return]
        WrittenResolution.group.name.as_alias("group"),
        WrittenResolution.title,
        WrittenResolution.text,
        WrittenResolution.status,
        WrittenResolution.proposed_at,
        WrittenResolution.closed_at,
    ).where(WrittenResolution.proposed_by == user_id)


async def _resolution_votes(user_id: int) -> list[dict[str, Any]]:
    """Their own votes and comments; how the others voted is theirs, not this person's."""
    return await ResolutionVote.select(  # type: ignore[no-any-return]
        ResolutionVote.resolution._.group._.name.as_alias("group"),
        ResolutionVote.resolution.title.as_alias("resolution"),
        ResolutionVote.choice,
        ResolutionVote.comment,
        ResolutionVote.cast_at,
        ResolutionVote.counted,
    ).where(ResolutionVote.user == user_id)


async def _board_proposals(user_id: int) -> list[dict[str, Any]]:
    return await BoardResponseProposal.select(  # type: ignore[no-any-return]
        BoardResponseProposal.delivery._.report._.title.as_alias("report"),
        BoardResponseProposal.response,
        BoardResponseProposal.rationale,
        BoardResponseProposal.status,
        BoardResponseProposal.proposed_at,
    ).where(BoardResponseProposal.proposed_by == user_id)


async def _board_concurrences(user_id: int) -> list[dict[str, Any]]:
    return await ProposalConcurrence.select(  # type: ignore[no-any-return]
        ProposalConcurrence.proposal._.delivery._.report._.title.as_alias("report"),
        ProposalConcurrence.stance,
        ProposalConcurrence.reason,
        ProposalConcurrence.recorded_at,
    ).where(ProposalConcurrence.member == user_id)


async def _comments(user_id: int) -> list[dict[str, Any]]:
    return await MinutesComment.select(  # type: ignore[no-any-return]
        MinutesComment.minutes._.meeting._.title.as_alias("meeting"),
        MinutesComment.body,
        MinutesComment.created_at,
    ).where(MinutesComment.author == user_id)


async def _responses(user_id: int) -> list[dict[str, Any]]:
    rows = await Delivery.select(
        Delivery.report.title.as_alias("report"),
        Delivery.recipient.as_alias("line"),
        Delivery.acknowledged_by,
        Delivery.acknowledged_at,
        Delivery.responded_by,
        Delivery.responded_at,
        Delivery.response,
        Delivery.rationale,
    ).where((Delivery.responded_by == user_id) | (Delivery.acknowledged_by == user_id))
    answers = []
    for row in rows:
        answered = row.pop("responded_by") == user_id
        acknowledged = row.pop("acknowledged_by") == user_id
        answers.append(
            {
                "report": row["report"],
                "line": row["line"],
                "acknowledged_at": row["acknowledged_at"] if acknowledged else None,
                "responded_at": row["responded_at"] if answered else None,
                "response": row["response"] if answered else "",
                "rationale": row["rationale"] if answered else "",
            }
        )
    return answers


async def _reports_submitted(user_id: int) -> list[dict[str, Any]]:
    return await Report.select(  # type: ignore[no-any-return]
        Report.group.name.as_alias("group"), Report.title, Report.kind, Report.submitted_at
    ).where(Report.submitted_by == user_id)


async def _documents_added(user_id: int) -> list[dict[str, Any]]:
    """What describes each document they added; never its contents."""
    return [
        {
            "title": row["title"],
            "file_name": row["file_name"],
            "size": row["size"],
            "sha256": row["sha256"],
            "holder": f"{row['holder_kind']} {row['holder_id']}",
            "version": row["version"],
            "added_at": row["added_at"],
            "withdrawn_at": row["withdrawn_at"],
        }
        for row in await documents_added_by(user_id)
    ]


async def _emails(email: str) -> list[dict[str, Any]]:
    return await OutboundEmail.select(  # type: ignore[no-any-return]
        OutboundEmail.template,
        OutboundEmail.status,
        OutboundEmail.created_at,
        OutboundEmail.sent_at,
    ).where(OutboundEmail.recipient == email)


def _only_own_address(summary: str, email: str) -> str:
    return EMAIL_ADDRESS.sub(
        lambda match: match.group(0) if match.group(0).lower() == email else ANOTHER_PERSON,
        summary,
    )


async def _audit_events(user_id: int, email: str) -> list[dict[str, Any]]:
    rows = await AuditEvent.select(
        AuditEvent.sequence,
        AuditEvent.occurred_at,
        AuditEvent.action,
        AuditEvent.entity_type,
        AuditEvent.entity_id,
        AuditEvent.summary,
    ).where(AuditEvent.actor_id == user_id)
    for row in rows:
        row["summary"] = _only_own_address(row["summary"], email)
    return rows  # type: ignore[no-any-return]


async def _sign_ins(user_id: int, email: str) -> dict[str, Any]:
    sessions = await UserSession.select(
        UserSession.created_at,
        UserSession.last_seen_at,
        UserSession.ip_address,
        UserSession.user_agent,
    ).where(UserSession.user == user_id)
    tokens = await ApiToken.select(
        ApiToken.label, ApiToken.created_at, ApiToken.last_used_at
    ).where(ApiToken.user == user_id)
    attempts = await LoginAttempt.select(LoginAttempt.attempted_at, LoginAttempt.ip_address).where(
        LoginAttempt.email == email
    )
    return {"sessions": sessions, "api_tokens": tokens, "failed_sign_ins": attempts}


async def personal_data(user_id: int) -> PersonalData:
    """Everything the service holds about this person."""
    account = await _account(user_id)
    email = account["email"]
    return PersonalData(
        account=account,
        memberships=await _memberships(user_id),
        attendance=await _attendance(user_id),
        meeting_replies=await _meeting_replies(user_id),
        conflicts_declared=await _conflicts(user_id),
        actions_owned=await _actions(user_id),
        action_updates_written=await _updates_written(user_id),
        minutes_comments=await _comments(user_id),
        responses_given=await _responses(user_id),
        resolutions_proposed=await _resolutions_proposed(user_id),
        resolution_votes=await _resolution_votes(user_id),
        board_responses_proposed=await _board_proposals(user_id),
        board_concurrences=await _board_concurrences(user_id),
        reports_submitted=await _reports_submitted(user_id),
        documents_added=await _documents_added(user_id),
        emails_queued=await _emails(email),
        audit_events_as_actor=await _audit_events(user_id, email),
        sign_ins=await _sign_ins(user_id, email),
    )


def personal_data_json(data: PersonalData) -> bytes:
    return msgspec.json.format(msgspec.json.encode(data), indent=2)


# --- the operations page --------------------------------------------------------------


async def _database_size(settings: Settings) -> int | None:
    if settings.is_sqlite:
        base = settings.sqlite_path
        files = [base, base.with_name(base.name + "-wal")]
        return sum(path.stat().st_size for path in files if path.exists())
    rows = await get_engine().run_ddl("SELECT pg_database_size(current_database()) AS size")
    return int(rows[0]["size"]) if rows else None


async def _outbox_counts() -> tuple[int, int, int]:
    zone = organisation_zone()
    start_of_today = dt.datetime.combine(organisation_today(), dt.time.min, tzinfo=zone)
    waiting = await OutboundEmail.count().where(OutboundEmail.status == STATUS_QUEUED)
    parked = await OutboundEmail.count().where(OutboundEmail.status == STATUS_PARKED)
    sent_today = await OutboundEmail.count().where(
        (OutboundEmail.status == STATUS_SENT) & (OutboundEmail.sent_at >= start_of_today)
    )
    return waiting, parked, sent_today


async def _jobs(names: list[str]) -> list[JobRunView]:
    runs = {row["name"]: row for row in await JobRun.select()}
    return [
        JobRunView(
            name=name,
            last_started_at=runs[name]["started_at"] if name in runs else None,
            last_finished_at=runs[name]["finished_at"] if name in runs else None,
            succeeded=runs[name]["succeeded"] if name in runs else None,
            outcome=runs[name]["outcome"] if name in runs else "",
        )
        for name in names
    ]


def _backup_view(settings: Settings) -> BackupView | None:
    made = last_backup(settings)
    if made is None:
        return None
    return BackupView(path=made.path, made_at=made.made_at, size=made.size, sha256=made.sha256)


async def operations_status(viewer: CurrentUser, job_names: list[str]) -> StatusView:
    """The service's health for an administrator: database, backups, outbox, scheduler,
    audit chain. Only counts and metadata, never content."""
    if not viewer.is_admin:
        raise PermissionDenied("Only an administrator can see the operations page.")
    settings = get_settings()
    waiting, parked, sent_today = await _outbox_counts()
    lease = await SchedulerLease.select().where(SchedulerLease.name == LEASE_NAME).first()
    verdict = await verify_chain()
    return StatusView(
        database_engine="SQLite" if settings.is_sqlite else "PostgreSQL",
        database_size_bytes=await _database_size(settings),
        last_backup=_backup_view(settings),
        nightly_backups=settings.nightly_backups,
        outbox_waiting=waiting,
        outbox_parked=parked,
        outbox_sent_today=sent_today,
        lease_holder=(lease or {}).get("holder") or "",
        lease_expires_at=lease["expires_at"] if lease and lease["holder"] else None,
        lease_held=bool(lease and lease["holder"] and lease["expires_at"] > utcnow()),
        jobs=await _jobs(job_names),
        audit_chain_intact=verdict.intact,
        audit_events_checked=verdict.events_checked,
        audit_problem=(
            "" if verdict.intact else f"sequence {verdict.first_bad_sequence}: {verdict.problem}"
        ),
    )
