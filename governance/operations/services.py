"""Erasing a former member's personal data, on their request (issue 14).

Their name and email are replaced by a stable pseudonym ("Former member 17") wherever the
service shows or sends them, in one transaction with its audit event. What the
organisation must keep is kept as it is, and the outcome says so:

- approved minutes, submitted reports, closed resolutions and decided Board responses (and
  published transparency reports) are frozen records: their words are not changed, even
  where they name the person;
- the audit trail's events are not changed either (each event's hash covers its words, and
  the chain must still verify): the trail shows a redacted copy of the events that name
  the person instead (`AuditRedaction`).

Everything else that is theirs (attendance, actions, comments, responses) stays, shown
under the pseudonym. Their sessions, API tokens and calendar feed are removed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from governance.accounts.policy import CurrentUser
from governance.accounts.tables import ApiToken, LoginAttempt, User, UserSession
from governance.actions.tables import ActionItem, ActionUpdate
from governance.core.audit import Actor, record_event
from governance.core.db import one_row, write_transaction
from governance.core.email import STATUS_QUEUED
from governance.core.errors import InvalidInput, NotFoundError, PermissionDenied
from governance.core.tables import AuditEvent, AuditRedaction, OutboundEmail
from governance.meetings.tables import CalendarFeed, MinutesComment
from governance.operations.schemas import ErasureOutcome
from governance.reports.tables import BoardResponseProposal, ProposalConcurrence, Report
from governance.resolutions.tables import ResolutionVote, WrittenResolution

ERASED_DOMAIN = "erased.invalid"
STATUS_CANCELLED = "cancelled"
# A name this short could be part of any word; it is replaced only where it is the name.
SHORTEST_NAME_REPLACED_IN_TEXT = 3

KEPT = [
    "Approved minutes, submitted reports, closed resolutions and decided Board responses keep "
    "their words as they were approved, submitted or decided, even where they name this "
    "person: they are frozen records the organisation "
    "must keep, and their hashes must still verify.",
    "The audit trail's events are kept unchanged, because each event's hash covers its words "
    "and the chain must still verify; the trail now shows them with the pseudonym instead.",
    "Attendance, replies, actions, comments, votes and responses stay in the record, under "
    "the pseudonym.",
]


def pseudonym_for(user_id: int) -> tuple[str, str]:
    """The stable pseudonym and stand-in address of an erased account."""
    return f"Former member {user_id}", f"former-member-{user_id}@{ERASED_DOMAIN}"


def is_erased(email: str) -> bool:
    return email.endswith(f"@{ERASED_DOMAIN}")


class Replacer:
    """Replaces a person's name and email in free text (any case of the email)."""

    def __init__(self, name: str, email: str, pseudonym: str, stand_in: str) -> None:
        self.pairs = [(email, stand_in)]
        if len(name) >= SHORTEST_NAME_REPLACED_IN_TEXT:
            self.pairs.append((name, pseudonym))

    def mentions(self, text: str) -> bool:
        lowered = text.lower()
        return any(old.lower() in lowered for old, _ in self.pairs)

    def __call__(self, text: str) -> str:
        for old, new in self.pairs:
            text = re.sub(re.escape(old), new, text, flags=re.IGNORECASE)
        return text


def _refusal(row: dict[str, Any]) -> str:
    if is_erased(row["email"]):
        return "This person's data has already been erased."
    if row["is_active"]:
        return "Deactivate the account first: only a deactivated account can be erased."
    return ""


async def _redact_audit_trail(user_id: int, replace: Replacer, pseudonym: str) -> int:
    """Writes how each event that names the person is shown from now on."""
    events = await AuditEvent.select(
        AuditEvent.sequence, AuditEvent.actor_id, AuditEvent.actor_label, AuditEvent.summary
    )
    shown = {row["sequence"]: row for row in await AuditRedaction.select()}
    redacted = 0
    for event in events:
        current = shown.get(event["sequence"], event)
        is_actor = event["actor_id"] == user_id
        if not (is_actor or replace.mentions(current["summary"] + current["actor_label"])):
            continue
        label = pseudonym if is_actor else replace(current["actor_label"])
        summary = replace(current["summary"])
        if event["sequence"] in shown:
            await AuditRedaction.update(
                {AuditRedaction.actor_label: label, AuditRedaction.summary: summary}
            ).where(AuditRedaction.sequence == event["sequence"])
        else:
            await AuditRedaction.insert(
                AuditRedaction(sequence=event["sequence"], actor_label=label, summary=summary)
            )
        redacted += 1
    return redacted


async def _replace_in_text(table: Any, columns: list[Any], where: Any, replace: Replacer) -> int:
    """Replaces the name and email in these columns of the rows that are not frozen."""
    changed = 0
    query = table.select(table.id, *columns)
    for row in await (query.where(where) if where is not None else query):
        values = {
            column: replace(row[column._meta.name])
            for column in columns
            if replace.mentions(row[column._meta.name] or "")
        }
        if values:
            await table.update(values).where(table.id == row["id"])
            changed += 1
    return changed


async def _replace_in_decisions_under_way(replace: Replacer) -> int:
    """Resolutions still open and Board proposals still pending; once decided they are part
    of the record, like approved minutes, and keep their words."""
    resolution_open = WrittenResolution.status == "open"
    proposal_pending = BoardResponseProposal.status == "pending"
    texts = await _replace_in_text(
        WrittenResolution,
        [WrittenResolution.title, WrittenResolution.text],
        resolution_open,
        replace,
    )
    texts += await _replace_in_text(
        ResolutionVote,
        [ResolutionVote.comment],
        ResolutionVote.resolution._.status == "open",
        replace,
    )
    texts += await _replace_in_text(
        BoardResponseProposal, [BoardResponseProposal.rationale], proposal_pending, replace
    )
    texts += await _replace_in_text(
        ProposalConcurrence,
        [ProposalConcurrence.reason],
        ProposalConcurrence.proposal._.status == "pending",
        replace,
    )
    return texts


async def _redact_outbox(email: str, stand_in: str, replace: Replacer) -> tuple[int, int]:
    """Mail to the person is cancelled and readdressed; mail to others that names them
    is reworded before it is sent or shown."""
    to_them = OutboundEmail.recipient == email
    cancelled = (
        await OutboundEmail.update({OutboundEmail.status: STATUS_CANCELLED})
        .where(to_them & (OutboundEmail.status == STATUS_QUEUED))
        .returning(OutboundEmail.id)
    )
    readdressed: dict[Any, Any] = {OutboundEmail.recipient: stand_in, OutboundEmail.context: {}}
    await OutboundEmail.update(readdressed).where(to_them)
    reworded = 0
    for row in await OutboundEmail.select(OutboundEmail.id, OutboundEmail.context):
        text = row["context"] if isinstance(row["context"], str) else json.dumps(row["context"])
        if replace.mentions(text):
            context = json.loads(replace(text))
            await OutboundEmail.update({OutboundEmail.context: context}).where(
                OutboundEmail.id == row["id"]
            )
            reworded += 1
    return len(cancelled), reworded


async def _remove_access(user_id: int, email: str) -> None:
    await UserSession.delete().where(UserSession.user == user_id)
    await ApiToken.delete().where(ApiToken.user == user_id)
    await CalendarFeed.delete().where(CalendarFeed.user == user_id)
    await LoginAttempt.delete().where(LoginAttempt.email == email)


async def _replace_everywhere(user_id: int, row: dict[str, Any]) -> list[str]:
    pseudonym, stand_in = pseudonym_for(user_id)
    replace = Replacer(row["display_name"], row["email"], pseudonym, stand_in)
    await User.update(
        {
            User.email: stand_in,
            User.display_name: pseudonym,
            User.password_hash: "",
            User.digest_frequency: "off",
            User.notification_categories: [],
        }
    ).where(User.id == user_id)
    await _remove_access(user_id, row["email"])
    texts = await _replace_in_text(
        ActionItem, [ActionItem.title, ActionItem.description], None, replace
    )
    texts += await _replace_in_text(ActionUpdate, [ActionUpdate.body], None, replace)
    texts += await _replace_in_text(MinutesComment, [MinutesComment.body], None, replace)
    texts += await _replace_in_text(
        Report, [Report.title, Report.body], Report.status != "submitted", replace
    )
    texts += await _replace_in_decisions_under_way(replace)
    cancelled, reworded = await _redact_outbox(row["email"], stand_in, replace)
    events = await _redact_audit_trail(user_id, replace, pseudonym)
    return [
        f"Name and email replaced by {pseudonym} and {stand_in} on the account.",
        "Sessions, API tokens, calendar feed and failed sign-ins removed.",
        f"{texts} action, update, comment, draft report, open resolution or pending Board "
        "proposal text(s) reworded.",
        f"{cancelled} queued email(s) to them cancelled; {reworded} other email(s) reworded.",
        f"{events} audit event(s) shown with the pseudonym.",
    ]


async def erase_person(email: str, actor: Actor) -> ErasureOutcome:
    """Erases a deactivated account's name and email (an administrator, or the command
    line, which runs as the system)."""
    if isinstance(actor, CurrentUser) and not actor.is_admin:
        raise PermissionDenied("Only an administrator can erase a person's data.")
    async with write_transaction():
        try:
            row = await one_row(User.select().where(User.email == email.strip().lower()), "missing")
        except NotFoundError as error:
            raise NotFoundError(f"No account with the email {email}.") from error
        refusal = _refusal(row)
        if refusal:
            raise InvalidInput(refusal)
        changed = await _replace_everywhere(row["id"], row)
        pseudonym, _ = pseudonym_for(row["id"])
        await record_event(
            actor, "user.erased", "user", row["id"], f"Personal data erased; now {pseudonym}"
        )
    return ErasureOutcome(user_id=row["id"], pseudonym=pseudonym, changed=changed, kept=KEPT)
