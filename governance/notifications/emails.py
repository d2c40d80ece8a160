"""Every email the service sends, one function each: who it goes to, what it says (the
context its templates under `templates/email/<name>/` read), its links and its dedupe key.

Services call the notices (an invitation, a delivery, a publication) inside their own write
transaction; the outbox row commits or rolls back with the change it tells of, and a second
call with the same dedupe key does nothing. The reminder sweep and the digests decide *what
is due*; the functions here that they call return a `PendingEmail` each, which
`queue_pending` (the sweep) or `queue_batch` (the digests, in their own transaction) put in
the outbox in bulk. No other module queues email. An email never carries text its recipient
may not read: each function takes only what may be said to that recipient.

Every email carries the signed link to the recipient's email choices; reminders and digests
also carry a one-click unsubscribe link for their category, and a notice with no category
(a delivery past its date, to the line) cannot be turned off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from governance.accounts.policy import Line, Visibility
from governance.core.audit import EventScope
from governance.core.clock import date_in_zone
from governance.core.db import write_transaction
from governance.core.email import CHUNK, OutgoingEmail, queue_email, queue_emails, queued_keys
from governance.core.isolation import SkippedItems
from governance.core.signing import email_preferences_url
from governance.core.templating import format_date, format_datetime, format_time_range
from governance.core.urls import absolute_url
from governance.notifications.links import unsubscribe_url
from governance.notifications.schemas import DIGEST, Category, TaskView, category_label
from governance.settings import get_settings


@dataclass(frozen=True)
class Recipient:
    """A person an email goes to, and the categories of reminder they have turned off."""

    user_id: int
    email: str
    display_name: str
    muted: frozenset[str] = frozenset()

    @classmethod
    def of(cls, row: dict[str, Any], id_key: str = "user_id") -> Recipient:
        return cls(int(row[id_key]), str(row["email"]), str(row["display_name"]))


def _context(
    recipient: Recipient, context: dict[str, Any], category: str | None = None
) -> dict[str, Any]:
    """The context every email shares (the greeting's name and the signed link to the
    recipient's email choices), and for a category its one-click unsubscribe link."""
    full_context = {
        "display_name": recipient.display_name,
        "preferences_url": email_preferences_url(recipient.user_id),
        **context,
    }
    if category is not None:
        full_context["unsubscribe_url"] = unsubscribe_url(recipient.user_id, category)
        full_context["unsubscribe_label"] = category_label(category)
    return full_context


async def _queue(
    recipient: Recipient,
    template: str,
    context: dict[str, Any],
    key: str,
    scope: EventScope | None = None,
) -> bool:
    """Queues one notice, in the caller's transaction. `scope`: the group and visibility of
    what it tells of, so that the outbox lists it only to those who may read that."""
    return await queue_email(recipient.email, template, _context(recipient, context), key, scope)


def _about(group_id: int | None, visibility: str | None = Visibility.INTERNAL) -> EventScope | None:
    """The scope of an email about a group's record of that visibility (a meeting, its
    minutes: internal)."""
    return None if visibility is None else EventScope(group_id, visibility)


# --- accounts ---------------------------------------------------------------------------


async def invitation(
    recipient: Recipient, *, invited_by: str, link: str, valid_days: int, attempt: int
) -> bool:
    """An invitation to set a password; each resend is a new email (`attempt`)."""
    return await _queue(
        recipient,
        "invitation",
        {"invited_by": invited_by, "link": link, "valid_days": valid_days},
        f"invitation:user:{recipient.user_id}:{attempt}",
    )


async def password_reset(
    recipient: Recipient, *, link: str, valid_hours: int, now: dt.datetime
) -> bool:
    """A password reset link: at most one per account per hour, however often asked for."""
    return await _queue(
        recipient,
        "password_reset",
        {"link": link, "valid_hours": valid_hours},
        f"password-reset:user:{recipient.user_id}:{now:%Y-%m-%dT%H}",
    )


async def security_notice(
    recipient: Recipient, *, what: str, event: str, now: dt.datetime, timezone: str
) -> bool:
    """A neutral notice that something changed in the person's account security (a new
    password, a second factor, a token, sessions ended). It has no category: it cannot be
    turned off, since it is how a person learns that someone else is in their account. It
    says what happened, never a secret."""
    return await _queue(
        recipient,
        "security_notice",
        {"what": what, "when": format_datetime(now, timezone)},
        f"security:{event}:user:{recipient.user_id}:{now.isoformat()}",
    )


async def email_change_confirmation(recipient: Recipient, *, link: str, valid_hours: int) -> bool:
    """The link that confirms a new email, sent to the new address (`recipient.email`)."""
    return await _queue(
        recipient,
        "email_change",
        {"link": link, "valid_hours": valid_hours, "new_email": recipient.email},
        f"email-change:user:{recipient.user_id}:{recipient.email}:{link[-16:]}",
    )


# --- meetings ---------------------------------------------------------------------------


async def minutes_circulated(
    recipient: Recipient,
    *,
    minutes_id: int,
    meeting_id: int,
    group_id: int,
    group_name: str,
    meeting_title: str,
    meeting_date: dt.date,
    circulated_at: dt.datetime,
) -> bool:
    """Minutes circulated for comment. The email names the meeting and links to it; the
    items stay behind sign-in, where each reader sees only the items their role allows."""
    return await _notify(
        recipient,
        "minutes_circulated",
        {
            "group_name": group_name,
            "meeting_title": meeting_title,
            "meeting_date": meeting_date.isoformat(),
            "link": absolute_url("meetings:show", meeting_id=meeting_id),
        },
        f"minutes:{minutes_id}:circulated:{circulated_at:%Y%m%dT%H%M%S}:user:{recipient.user_id}",
        Category.MINUTES_CHANGES,
        _about(group_id),
    )


async def _notify(
    recipient: Recipient,
    template: str,
    context: dict[str, Any],
    key: str,
    category: str | None,
    scope: EventScope | None,
) -> bool:
    """Queues one change notification in the caller's transaction, unless its recipient
    has turned its category off (None: a notice governance requires, never off). The email
    carries the one-click link that turns its category off."""
    if category is not None and category in recipient.muted:
        return False
    return await queue_email(
        recipient.email, template, _context(recipient, context, category), key, scope
    )


@dataclass(frozen=True)
class MeetingRef:
    """A meeting as its notices name it."""

    meeting_id: int
    group_id: int
    group_name: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    sequence: int = 0

    def times(self, timezone: str) -> dict[str, str]:
        return {"starts": _when(self.starts_at, timezone), "ends": _when(self.ends_at, timezone)}

    def base(self, timezone: str) -> dict[str, Any]:
        return {
            "group_name": self.group_name,
            "meeting_title": self.title,
            "location": self.location,
            "link": absolute_url("meetings:show", meeting_id=self.meeting_id),
            **self.times(timezone),
        }


@dataclass(frozen=True)
class CalendarPart:
    """An iCalendar invitation riding along (METHOD:REQUEST or CANCEL), for one reader."""

    body: str
    method: str
    filename: str

    def context(self) -> dict[str, str]:
        return {"ics": self.body, "ics_method": self.method, "ics_filename": self.filename}


def _with_calendar(context: dict[str, Any], calendar: CalendarPart | None) -> dict[str, Any]:
    return {**context, **calendar.context()} if calendar is not None else context


async def meeting_scheduled(
    recipient: Recipient, meeting: MeetingRef, *, timezone: str, scheduled_by: str
) -> bool:
    """A meeting of the recipient's group was scheduled (the notice, with the agenda and
    the reply links, comes later)."""
    return await _notify(
        recipient,
        "meeting_scheduled",
        {**meeting.base(timezone), "scheduled_by": scheduled_by},
        f"meeting:{meeting.meeting_id}:scheduled:user:{recipient.user_id}",
        Category.MEETING_CHANGES,
        _about(meeting.group_id),
    )


async def meeting_changed(
    recipient: Recipient,
    meeting: MeetingRef,
    before: MeetingRef,
    *,
    timezone: str,
    calendar: CalendarPart | None,
    visibility: str = Visibility.INTERNAL,
) -> bool:
    """A meeting moved or its place changed: the old and the new, in the recipient's zone;
    after the notice, with the calendar update (SEQUENCE raised), whose agenda holds the
    titles this reader may read (`visibility`: the narrowest among them). One per change
    (its sequence number) and person. The times are ranges written as pages write them
    (`format_time_range`: the zone once, at the end); the template still reads contexts
    queued before, which carried `old_starts` and `old_ends`."""
    context = {
        **meeting.base(timezone),
        "moved": (before.starts_at, before.ends_at) != (meeting.starts_at, meeting.ends_at),
        "when": format_time_range(meeting.starts_at, meeting.ends_at, timezone),
        "old_when": format_time_range(before.starts_at, before.ends_at, timezone),
        "old_location": before.location,
        "old_title": before.title,
    }
    return await _notify(
        recipient,
        "meeting_changed",
        _with_calendar(context, calendar),
        f"meeting:{meeting.meeting_id}:changed:{meeting.sequence}:user:{recipient.user_id}",
        Category.MEETING_CHANGES,
        _about(meeting.group_id, visibility),
    )


async def meeting_cancelled(
    recipient: Recipient,
    meeting: MeetingRef,
    *,
    reason: str,
    timezone: str,
    calendar: CalendarPart | None,
) -> bool:
    """A meeting was cancelled, with the reason; after the notice, with METHOD:CANCEL so
    calendars remove it."""
    return await _notify(
        recipient,
        "meeting_cancelled",
        _with_calendar({**meeting.base(timezone), "reason": reason}, calendar),
        f"meeting:{meeting.meeting_id}:cancelled:user:{recipient.user_id}",
        Category.MEETING_CHANGES,
        _about(meeting.group_id),
    )


async def meeting_notice(
    recipient: Recipient,
    meeting: MeetingRef,
    *,
    agenda: Sequence[str],
    visibility: str,
    reply_links: dict[str, str],
    pack_link: str,
    timezone: str,
    calendar: CalendarPart,
) -> bool:
    """The notice of a meeting: when and where, the agenda titles this member may read
    (`visibility`: the narrowest among them, for the outbox row), the papers' pack, and
    one signed link per reply. Governance requires it: it has no category. One per
    version of the meeting (its calendar sequence) and person, so sending it twice tells
    once."""
    context = {
        **meeting.base(timezone),
        "agenda": list(agenda),
        "pack_link": pack_link,
        "reply_links": reply_links,
    }
    return await _notify(
        recipient,
        "meeting_notice",
        _with_calendar(context, calendar),
        f"meeting:{meeting.meeting_id}:notice:{meeting.sequence}:user:{recipient.user_id}",
        None,
        _about(meeting.group_id, visibility),
    )


async def minutes_approved(
    recipient: Recipient,
    *,
    minutes_id: int,
    meeting_id: int,
    group_id: int,
    group_name: str,
    meeting_title: str,
    meeting_date: dt.date,
) -> bool:
    """Minutes approved and locked, to the group's current members."""
    return await _notify(
        recipient,
        "minutes_approved",
        {
            "group_name": group_name,
            "meeting_title": meeting_title,
            "meeting_date": format_date(meeting_date),
            "link": absolute_url("meetings:show", meeting_id=meeting_id),
        },
        f"minutes:{minutes_id}:approved:user:{recipient.user_id}",
        Category.MINUTES_CHANGES,
        _about(group_id),
    )


# --- written resolutions ----------------------------------------------------------------


@dataclass(frozen=True)
class ResolutionRef:
    """A written resolution as its emails name it. Its members read every visibility of
    their group's content; `visibility` is the outbox row's scope."""

    resolution_id: int
    group_id: int
    group_name: str
    title: str
    visibility: str
    closes_at: dt.datetime

    def base(self, timezone: str) -> dict[str, Any]:
        return {
            "group_name": self.group_name,
            "title": self.title,
            "closes": format_datetime(self.closes_at, timezone) + f" ({timezone})",
            "link": absolute_url("resolutions:show", resolution_id=self.resolution_id),
        }


@dataclass(frozen=True)
class PaperLink:
    """A paper as an email lists it: its title and its page (read once signed in). Only
    papers the recipient may read are given."""

    title: str
    url: str


async def resolution_proposed(
    recipient: Recipient,
    resolution: ResolutionRef,
    *,
    text: str,
    proposed_by: str,
    vote_links: dict[str, str],
    timezone: str,
    papers: Sequence[PaperLink] = (),
) -> bool:
    """A motion put to the group's members between meetings, with one signed link per
    vote and the papers the member may read. Governance requires it: it has no category.
    Once per resolution and member."""
    context = {
        **resolution.base(timezone),
        "text": text,
        "proposed_by": proposed_by,
        "vote_links": vote_links,
        # The outbox keeps the context as JSON.
        "papers": [{"title": paper.title, "url": paper.url} for paper in papers],
    }
    return await _notify(
        recipient,
        "resolution_proposed",
        context,
        f"resolution:{resolution.resolution_id}:proposed:user:{recipient.user_id}",
        None,
        _about(resolution.group_id, resolution.visibility),
    )


async def resolution_reminder(
    recipient: Recipient, resolution: ResolutionRef, *, vote_links: dict[str, str], timezone: str
) -> bool:
    """To a member who has not voted, a day before voting closes: once per resolution and
    member, however often the job runs."""
    return await _notify(
        recipient,
        "resolution_reminder",
        {**resolution.base(timezone), "vote_links": vote_links},
        f"resolution:{resolution.resolution_id}:reminder:user:{recipient.user_id}",
        None,
        _about(resolution.group_id, resolution.visibility),
    )


async def resolution_result(
    recipient: Recipient,
    resolution: ResolutionRef,
    *,
    outcome: str,
    votes: dict[str, int],
    members: int,
    quorum_met: bool,
    timezone: str,
) -> bool:
    """The result (carried, not carried or withdrawn), to the group's members: once per
    resolution and member."""
    context = {
        **resolution.base(timezone),
        "outcome": outcome,
        "votes": votes,
        "members": members,
        "quorum_met": quorum_met,
    }
    return await _notify(
        recipient,
        "resolution_result",
        context,
        f"resolution:{resolution.resolution_id}:result:user:{recipient.user_id}",
        None,
        _about(resolution.group_id, resolution.visibility),
    )


# --- actions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRef:
    """An action as its notifications name it; only ever sent to people who read it."""

    action_id: int
    group_id: int
    group_name: str
    title: str
    visibility: str
    due_on: dt.date

    def base(self) -> dict[str, Any]:
        return {
            "group_name": self.group_name,
            "title": self.title,
            "due_on": format_date(self.due_on),
            "link": absolute_url("actions:show", action_id=self.action_id),
        }


async def action_assigned(recipient: Recipient, action: ActionRef, *, change: int) -> bool:
    """The recipient now owns this action (at its creation or a reassignment: `change`,
    0 at creation, else the number of the update that recorded it)."""
    return await _notify(
        recipient,
        "action_assigned",
        action.base(),
        f"action:{action.action_id}:assigned:{change}:user:{recipient.user_id}",
        Category.ACTION_CHANGES,
        _about(action.group_id, action.visibility),
    )


async def action_unassigned(recipient: Recipient, action: ActionRef, *, change: int) -> bool:
    """The action was reassigned away from the recipient."""
    return await _notify(
        recipient,
        "action_unassigned",
        action.base(),
        f"action:{action.action_id}:unassigned:{change}:user:{recipient.user_id}",
        Category.ACTION_CHANGES,
        _about(action.group_id, action.visibility),
    )


async def action_due_changed(
    recipient: Recipient, action: ActionRef, *, old_due_on: dt.date, change: int
) -> bool:
    """The due date of an action the recipient owns moved."""
    return await _notify(
        recipient,
        "action_due_changed",
        {**action.base(), "old_due_on": format_date(old_due_on)},
        f"action:{action.action_id}:due:{change}:user:{recipient.user_id}",
        Category.ACTION_CHANGES,
        _about(action.group_id, action.visibility),
    )


# --- groups -----------------------------------------------------------------------------


async def membership_added(
    recipient: Recipient,
    *,
    membership_id: int,
    group_slug: str,
    group_name: str,
    role: str,
    starts_on: dt.date,
    ends_on: dt.date | None,
) -> bool:
    """The recipient was added to a group, for a term."""
    return await _notify(
        recipient,
        "membership_added",
        {
            "group_name": group_name,
            "role": role,
            "starts_on": format_date(starts_on),
            "ends_on": format_date(ends_on) if ends_on else "",
            "link": absolute_url("groups:show", slug=group_slug),
        },
        f"membership:{membership_id}:added:user:{recipient.user_id}",
        Category.MEMBERSHIP_CHANGES,
        None,
    )


async def membership_changed(
    recipient: Recipient,
    *,
    membership_id: int,
    group_slug: str,
    group_name: str,
    before: tuple[str, dt.date, dt.date | None],
    after: tuple[str, dt.date, dt.date | None],
) -> bool:
    """The recipient's role or term in a group changed: (role, starts_on, ends_on) before
    and after. One per resulting term, so saving the same change twice tells once."""
    role, starts_on, ends_on = after
    old_role, old_starts_on, old_ends_on = before
    return await _notify(
        recipient,
        "membership_changed",
        {
            "group_name": group_name,
            "role": role,
            "old_role": old_role,
            "starts_on": format_date(starts_on),
            "ends_on": format_date(ends_on) if ends_on else "",
            "old_starts_on": format_date(old_starts_on),
            "old_ends_on": format_date(old_ends_on) if old_ends_on else "",
            "link": absolute_url("groups:show", slug=group_slug),
        },
        f"membership:{membership_id}:changed:{role}:{starts_on.isoformat()}:"
        f"{ends_on.isoformat() if ends_on else 'open'}:user:{recipient.user_id}",
        Category.MEMBERSHIP_CHANGES,
        None,
    )


async def meeting_papers(
    recipient: Recipient,
    *,
    meeting_id: int,
    group_id: int,
    group_name: str,
    meeting_title: str,
    when: str,
    paper_titles: Sequence[str],
    pack_key: str,
) -> bool:
    """The meeting's papers, sent by the chair or secretary: a link to the recipient's own
    pack (one PDF) and the titles of the papers that recipient may read, and no others.
    One per meeting, recipient and pack (`pack_key`, a hash of what that pack holds): sent
    again only once the papers this recipient reads have changed. Scoped to the group's
    members, since the titles may include items only they read."""
    return await _queue(
        recipient,
        "meeting_papers",
        {
            "group_name": group_name,
            "meeting_title": meeting_title,
            "when": when,
            "paper_titles": list(paper_titles),
            "link": absolute_url("documents:pack", meeting_id=meeting_id),
            "meeting_link": absolute_url("meetings:show", meeting_id=meeting_id),
        },
        f"papers:meeting:{meeting_id}:user:{recipient.user_id}:pack:{pack_key[:32]}",
        _about(group_id, Visibility.GROUP),
    )


# --- reports ----------------------------------------------------------------------------


async def report_delivered(
    recipient: Recipient,
    *,
    delivery_id: int,
    report_id: int,
    group_id: int,
    group_name: str,
    report_title: str,
    visibility: str,
    kind: str,
    line: str,
    due_on: dt.date,
) -> bool:
    """A report has reached the recipient's line and awaits its response."""
    return await _queue(
        recipient,
        "report_delivered",
        {
            "group_name": group_name,
            "report_title": report_title,
            "kind": kind,
            "line_name": Line(line).label,
            "due_on": due_on.isoformat(),
            "link": absolute_url("reports:show", report_id=report_id),
        },
        f"delivery:{delivery_id}:delivered:user:{recipient.user_id}",
        _about(group_id, visibility),
    )


async def delivery_responded(
    recipient: Recipient,
    *,
    delivery_id: int,
    report_id: int,
    report_title: str,
    group_id: int,
    group_name: str,
    visibility: str,
    line: str,
    response: str,
) -> bool:
    """A line has answered the recipient's group's report (to each current member)."""
    return await _notify(
        recipient,
        "delivery_responded",
        {
            "report_title": report_title,
            "group_name": group_name,
            "line_name": Line(line).label,
            "response": response.replace("_", " "),
            "link": absolute_url("reports:show", report_id=report_id),
        },
        f"delivery:{delivery_id}:responded:user:{recipient.user_id}",
        Category.REPORT_RESPONSES,
        _about(group_id, visibility),
    )


async def board_concurrence_requested(
    recipient: Recipient,
    *,
    proposal_id: int,
    report_id: int,
    report_title: str,
    group_id: int,
    group_name: str,
    visibility: str,
    kind: str,
    proposed_by: str,
    response: str,
    needed: int,
    due_on: dt.date,
) -> bool:
    """A Board member has proposed the Board's response; another Board member's
    concurrence is awaited. A notice governance requires (no category), once per proposal
    and person, listed only to the Board's readers: the Director learns nothing of it."""
    return await _queue(
        recipient,
        "board_concurrence",
        {
            "report_title": report_title,
            "group_name": group_name,
            "kind": kind,
            "proposed_by": proposed_by,
            "response": response.replace("_", " "),
            "needed": needed,
            "due_on": due_on.isoformat(),
            "link": absolute_url("reports:show", report_id=report_id) + "#line-board",
        },
        f"proposal:{proposal_id}:concurrence:user:{recipient.user_id}",
        EventScope(group_id, Visibility.BOARD),
    )


# --- transparency -----------------------------------------------------------------------


async def transparency_published(
    recipient: Recipient,
    *,
    report_id: int,
    group_id: int | None,
    readers: str,
    scope_name: str,
    period: str,
    edition_name: str,
    version: int,
    supersedes_version: int | None,
    sha256: str,
    headline: Sequence[Any],
) -> bool:
    """A transparency report was published (to the Board); `readers`, the visibility whose
    readers read it."""
    return await _queue(
        recipient,
        "transparency_published",
        {
            "scope_name": scope_name,
            "period": period,
            "edition_name": edition_name,
            "version": version,
            "supersedes_version": supersedes_version,
            "sha256": sha256,
            "headline": list(headline),
            "link": absolute_url("transparency:show", report_id=report_id),
        },
        f"transparency:{report_id}:published:user:{recipient.user_id}",
        _about(group_id, readers),
    )


# --- pulses -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PulseInvite:
    """One staff address's link to one run of a pulse. Staff have no account: the email
    carries no preferences link, and says it comes once per run (and one reminder)."""

    run_id: int
    staff_id: int
    email: str
    link: str


@dataclass(frozen=True)
class PulseAbout:
    group_id: int
    group_name: str
    pulse_title: str
    closes_on: dt.date
    visibility: str


def _pulse_email(invite: PulseInvite, about: PulseAbout, template: str) -> OutgoingEmail:
    context = {
        "group_name": about.group_name,
        "pulse_title": about.pulse_title,
        "closes_on": format_date(about.closes_on),
        "link": invite.link,
    }
    key = f"pulse:run:{invite.run_id}:staff:{invite.staff_id}:{template}"
    return OutgoingEmail(
        invite.email, template, context, key, EventScope(about.group_id, about.visibility)
    )


async def _queue_pulse(invites: Sequence[PulseInvite], about: PulseAbout, template: str) -> int:
    added = 0
    for start in range(0, len(invites), CHUNK):
        chunk = invites[start : start + CHUNK]
        added += len(await queue_emails([_pulse_email(i, about, template) for i in chunk]))
    return added


async def pulse_invitations(invites: Sequence[PulseInvite], about: PulseAbout) -> int:
    """Each invitee's single-use link, in the caller's transaction; returns how many were
    queued."""
    return await _queue_pulse(invites, about, "pulse_invitation")


async def pulse_reminders(invites: Sequence[PulseInvite], about: PulseAbout) -> int:
    """The one reminder before a run closes, to invitees who have not answered."""
    return await _queue_pulse(invites, about, "pulse_reminder")


# --- queueing in bulk: the reminder sweep and the digests -------------------------------


@dataclass(frozen=True)
class PendingEmail:
    """One reminder or digest for one person, built to be queued with others. `category`
    None marks a notice that cannot be turned off."""

    recipient: Recipient
    template: str
    context: dict[str, Any]
    dedupe_key: str
    category: str | None
    # The group and visibility of what it tells of, for the outbox list.
    scope: EventScope | None = None

    @property
    def muted(self) -> bool:
        """Whether its recipient has turned this category of email off."""
        return self.category is not None and self.category in self.recipient.muted

    def outgoing(self) -> OutgoingEmail:
        context = _context(self.recipient, self.context, self.category)
        return OutgoingEmail(
            self.recipient.email, self.template, context, self.dedupe_key, self.scope
        )


@dataclass
class QueueReport(SkippedItems):
    """What a sweep queued; `failed` counts the items it skipped because they broke."""

    queued: int = 0
    already_queued: int = 0
    muted: int = 0
    by_template: dict[str, int] = field(default_factory=dict)

    def add(self, other: QueueReport) -> None:
        self.queued += other.queued
        self.already_queued += other.already_queued
        self.muted += other.muted
        for name, count in other.by_template.items():
            self.by_template[name] = self.by_template.get(name, 0) + count
        self.add_failures(other)

    def __str__(self) -> str:
        return (
            f"{self.queued} queued, {self.already_queued} already queued, {self.muted} muted; "
            + self.failures_summary()
        )


async def queue_batch(emails: Sequence[PendingEmail]) -> list[PendingEmail]:
    """Queues these emails in one statement, in the caller's write transaction (at most
    `CHUNK` of them); returns those added. A key queued before is skipped."""
    added = await queue_emails([pending.outgoing() for pending in emails])
    return [pending for pending in emails if pending.dedupe_key in added]


async def queue_pending(emails: Sequence[PendingEmail]) -> QueueReport:
    """Queues each email not turned off and not queued before, in one transaction per chunk.

    Keys already in the outbox are skipped without a write, so a sweep that finds nothing
    new writes nothing; the outbox's unique key still guarantees one row per key if two
    sweeps race.
    """
    report = QueueReport()
    wanted: dict[str, PendingEmail] = {}
    for pending in emails:
        if pending.muted:
            report.muted += 1
            continue
        wanted.setdefault(pending.dedupe_key, pending)
    done = await queued_keys(list(wanted))
    fresh = [pending for key, pending in wanted.items() if key not in done]
    report.already_queued = len(done)
    for start in range(0, len(fresh), CHUNK):
        chunk = fresh[start : start + CHUNK]
        try:
            await _queue_chunk(chunk, report)
        except Exception:
            # One email that cannot be stored must not keep the others out: one at a time.
            for pending in chunk:
                with report.skipping(f"email {pending.dedupe_key}"):
                    await _queue_chunk([pending], report)
    return report


async def _queue_chunk(chunk: Sequence[PendingEmail], report: QueueReport) -> None:
    async with write_transaction():
        added = await queue_batch(chunk)
    report.queued += len(added)
    report.already_queued += len(chunk) - len(added)
    for pending in added:
        report.by_template[pending.template] = report.by_template.get(pending.template, 0) + 1


def _when(moment: dt.datetime, timezone: str) -> str:
    return format_datetime(moment, timezone)


def _organisation_date(moment: dt.datetime) -> str:
    return format_date(date_in_zone(moment))


def _local_date(moment: dt.datetime, timezone: str) -> str:
    return format_date(date_in_zone(moment, timezone))


def _key_moment(moment: dt.datetime, pattern: str) -> str:
    return moment.astimezone(dt.UTC).strftime(pattern)


# --- reminders --------------------------------------------------------------------------


def action_reminder(
    recipient: Recipient,
    *,
    action_id: int,
    title: str,
    group_id: int,
    group_name: str,
    visibility: str,
    due_on: dt.date,
    status: str,
    stage: str,
    stage_key: str,
    today: dt.date,
) -> PendingEmail:
    """An action the recipient owns is due soon, due today or overdue (`stage`); each
    stage's `stage_key` (its date, or the overdue week) is sent once."""
    return PendingEmail(
        recipient,
        "action_reminder",
        {
            "stage": stage,
            "title": title,
            "group_name": group_name,
            "due_on": format_date(due_on),
            "days_left": (due_on - today).days,
            "days_late": (today - due_on).days,
            "status": status.replace("_", " "),
            "link": absolute_url("actions:show", action_id=action_id),
        },
        f"reminder:action:{action_id}:{stage_key}:user:{recipient.user_id}",
        Category.ACTIONS,
        _about(group_id, visibility),
    )


def meeting_reminder(
    recipient: Recipient,
    *,
    meeting_id: int,
    meeting_title: str,
    group_id: int,
    group_name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location: str,
    agenda: Sequence[str],
    calendar: str,
    timezone: str,
    papers_added: Sequence[str] = (),
) -> PendingEmail:
    """A meeting of the recipient's group two days ahead, with the agenda titles they may
    read, the papers they may read added since they were sent the notice or the papers
    (`papers_added`), and the meeting as a calendar file; times in the recipient's zone. A
    meeting moved to another time is announced again."""
    return PendingEmail(
        recipient,
        "meeting_reminder",
        {
            "meeting_title": meeting_title,
            "group_name": group_name,
            "starts": _when(starts_at, timezone),
            "ends": _when(ends_at, timezone),
            "location": location,
            "agenda": list(agenda),
            "papers_added": list(papers_added),
            "pack_link": absolute_url("documents:pack", meeting_id=meeting_id),
            "link": absolute_url("meetings:show", meeting_id=meeting_id),
            "ics": calendar,
            "ics_filename": f"meeting-{meeting_id}.ics",
        },
        f"reminder:meeting:{meeting_id}:ahead:{_key_moment(starts_at, '%Y%m%dT%H%MZ')}"
        f":user:{recipient.user_id}",
        Category.MEETINGS,
        _about(group_id),
    )


@dataclass(frozen=True)
class MinutesRef:
    """The minutes of one meeting, as their reminders and digest lines name them."""

    minutes_id: int
    meeting_id: int
    meeting_title: str
    group_name: str
    starts_at: dt.datetime
    group_id: int | None = None


def minutes_draft_reminder(
    recipient: Recipient, minutes: MinutesRef, *, today: dt.date
) -> PendingEmail:
    """A held meeting's minutes are still in draft, to its group's chair and secretary."""
    held_on = date_in_zone(minutes.starts_at)
    return PendingEmail(
        recipient,
        "minutes_draft_reminder",
        {
            "meeting_title": minutes.meeting_title,
            "group_name": minutes.group_name,
            "meeting_date": format_date(held_on),
            "days": (today - held_on).days,
            "link": absolute_url("meetings:show", meeting_id=minutes.meeting_id),
        },
        f"reminder:minutes:{minutes.minutes_id}:draft:user:{recipient.user_id}",
        Category.MINUTES,
        _about(minutes.group_id),
    )


def minutes_review_reminder(
    recipient: Recipient, minutes: MinutesRef, *, circulated_at: dt.datetime, timezone: str
) -> PendingEmail:
    """Circulated minutes await the review of an attendee who has not commented; each
    circulation is a new reminder."""
    circulated = _key_moment(circulated_at, "%Y%m%dT%H%M%S")
    return PendingEmail(
        recipient,
        "minutes_review_reminder",
        {
            "meeting_title": minutes.meeting_title,
            "group_name": minutes.group_name,
            "meeting_date": _organisation_date(minutes.starts_at),
            "circulated_on": _local_date(circulated_at, timezone),
            "link": absolute_url("meetings:show", meeting_id=minutes.meeting_id),
        },
        f"reminder:minutes:{minutes.minutes_id}:review:{circulated}:user:{recipient.user_id}",
        Category.MINUTES,
        _about(minutes.group_id),
    )


@dataclass
class ReportDue:
    """A group's periodic report for a period, due on a date, at one stage of its
    reminders; `lines` are the reporting lines it goes to."""

    group_id: int
    group_name: str
    group_slug: str
    period: str
    due_on: dt.date
    stage: str
    lines: list[str] = field(default_factory=list)


def report_due_reminder(recipient: Recipient, report: ReportDue, *, today: dt.date) -> PendingEmail:
    """A group's periodic report falls due soon, today or is past due (its stage), to its
    chair and secretary."""
    line_names = sorted({Line(line).label for line in report.lines}, reverse=True)
    return PendingEmail(
        recipient,
        "report_due_reminder",
        {
            "stage": report.stage,
            "group_name": report.group_name,
            "period": report.period,
            "due_on": format_date(report.due_on),
            "days_left": (report.due_on - today).days,
            "lines": " and ".join(line_names),
            "link": absolute_url("reports:group", slug=report.group_slug),
        },
        f"reminder:report:group:{report.group_id}:{report.period}:{report.stage}:"
        f"{report.due_on.isoformat()}:user:{recipient.user_id}",
        Category.REPORTS,
        _about(report.group_id),
    )


@dataclass(frozen=True)
class DeliveryRef:
    """A delivery of a report along a line, and where it stands."""

    delivery_id: int
    report_id: int
    report_title: str
    group_name: str
    line: str
    state: str
    response: str | None
    response_due_on: dt.date
    group_id: int | None = None
    visibility: str | None = None


def delivery_overdue(
    recipient: Recipient, delivery: DeliveryRef, *, for_line: bool, week: str
) -> PendingEmail:
    """A delivery not answered by its due date: to the people of that line (`for_line`, a
    notice governance requires, which cannot be turned off) and to the group's chair;
    once in each overdue `week` (2026-W49) until it is answered."""
    return PendingEmail(
        recipient,
        "delivery_overdue",
        {
            "for_line": for_line,
            "line_name": Line(delivery.line).label,
            "report_title": delivery.report_title,
            "group_name": delivery.group_name,
            "acknowledged": delivery.state == "acknowledged",
            "due_on": format_date(delivery.response_due_on),
            "link": absolute_url("reports:show", report_id=delivery.report_id),
        },
        f"reminder:delivery:{delivery.delivery_id}:overdue:{week}:user:{recipient.user_id}",
        None if for_line else Category.REPORTS,
        _about(delivery.group_id, delivery.visibility),
    )


@dataclass(frozen=True)
class MembershipRef:
    """One membership term of a person in a group."""

    membership_id: int
    user_id: int
    member_name: str
    group_slug: str
    group_name: str
    role: str
    ends_on: dt.date


def membership_ending(
    recipient: Recipient, membership: MembershipRef, *, notice: int, today: dt.date
) -> PendingEmail:
    """A membership ends in `notice` (60 or 30) days: to the member and to the group's
    chair."""
    return PendingEmail(
        recipient,
        "membership_ending",
        {
            "is_own": recipient.user_id == membership.user_id,
            "member_name": membership.member_name,
            "group_name": membership.group_name,
            "role": membership.role,
            "ends_on": format_date(membership.ends_on),
            "days_left": (membership.ends_on - today).days,
            "link": absolute_url("groups:show", slug=membership.group_slug),
        },
        f"reminder:membership:{membership.membership_id}:ends:{membership.ends_on.isoformat()}"
        f":{notice}:user:{recipient.user_id}",
        Category.MEMBERSHIP,
    )


# --- the digest -------------------------------------------------------------------------

# Items shown per section; the rest is counted ("… and 3 more").
DIGEST_SECTION_ITEMS = 20
DECISION_TEXT_LIMIT = 300


@dataclass(frozen=True)
class OwnedAction:
    action_id: int
    title: str
    group_name: str
    due_on: dt.date


@dataclass(frozen=True)
class MeetingAhead:
    meeting_id: int
    title: str
    group_name: str
    starts_at: dt.datetime
    location: str


@dataclass(frozen=True)
class DecisionNews:
    meeting_id: int
    meeting_title: str
    item_title: str
    text: str
    decided_at: dt.datetime


@dataclass(frozen=True)
class DigestContent:
    """What one person's digest says, section by section, each already in its order and
    holding only what that person may read. `tasks` is their "needs me" list, the same as
    the page's (`notifications/needs_me.py`): the digest's first section."""

    tasks: Sequence[TaskView] = ()
    actions: Sequence[OwnedAction] = ()
    meetings: Sequence[MeetingAhead] = ()
    minutes: Sequence[MinutesRef] = ()
    awaiting: Sequence[DeliveryRef] = ()
    awaiting_management: Sequence[DeliveryRef] = ()
    received: Sequence[DeliveryRef] = ()
    responses: Sequence[DeliveryRef] = ()
    decisions: Sequence[DecisionNews] = ()

    def is_empty(self) -> bool:
        return not any(
            (
                self.tasks,
                self.actions,
                self.meetings,
                self.minutes,
                self.awaiting,
                self.awaiting_management,
                self.received,
                self.responses,
                self.decisions,
            )
        )


def _capped(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": items[:DIGEST_SECTION_ITEMS],
        "more": max(len(items) - DIGEST_SECTION_ITEMS, 0),
    }


def _shorten(text: str, limit: int = DECISION_TEXT_LIMIT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _task_detail(task: TaskView) -> str:
    due = task.response_due_on
    return task.detail + (f"; response due on {format_date(due)}" if due else "")


def _task_item(task: TaskView) -> dict[str, Any]:
    return {
        "label": task.label,
        "title": task.title,
        "group_name": task.group_name or "",
        "when": f"{task.on_means} {format_date(task.on)}",
        "detail": _task_detail(task),
        "link": get_settings().base_url + task.link,
    }


def _action_item(action: OwnedAction, today: dt.date) -> dict[str, Any]:
    return {
        "title": action.title,
        "group_name": action.group_name,
        "due_on": format_date(action.due_on),
        "overdue": action.due_on < today,
        "link": absolute_url("actions:show", action_id=action.action_id),
    }


def _meeting_item(meeting: MeetingAhead, timezone: str) -> dict[str, Any]:
    return {
        "title": meeting.title,
        "group_name": meeting.group_name,
        "starts": format_datetime(meeting.starts_at, timezone),
        "location": meeting.location,
        "link": absolute_url("meetings:show", meeting_id=meeting.meeting_id),
    }


def _minutes_item(minutes: MinutesRef, timezone: str) -> dict[str, Any]:
    return {
        "title": minutes.meeting_title,
        "group_name": minutes.group_name,
        "meeting_date": _local_date(minutes.starts_at, timezone),
        "link": absolute_url("meetings:show", meeting_id=minutes.meeting_id),
    }


def _delivery_item(delivery: DeliveryRef, today: dt.date) -> dict[str, Any]:
    return {
        "title": delivery.report_title,
        "group_name": delivery.group_name,
        "line_name": Line(delivery.line).label,
        "state": delivery.state,
        "response": (delivery.response or "").replace("_", " "),
        "due_on": format_date(delivery.response_due_on),
        "past_due": delivery.state != "responded" and delivery.response_due_on < today,
        "link": absolute_url("reports:show", report_id=delivery.report_id),
    }


def _decision_item(decision: DecisionNews, timezone: str) -> dict[str, Any]:
    return {
        "text": _shorten(decision.text),
        "item_title": decision.item_title,
        "meeting_title": decision.meeting_title,
        "decided_on": _local_date(decision.decided_at, timezone),
        "link": absolute_url("meetings:show", meeting_id=decision.meeting_id),
    }


def _digest_sections(content: DigestContent, today: dt.date, timezone: str) -> dict[str, Any]:
    def deliveries(items: Sequence[DeliveryRef]) -> dict[str, Any]:
        return _capped([_delivery_item(delivery, today) for delivery in items])

    return {
        "tasks": _capped([_task_item(task) for task in content.tasks]),
        "actions": _capped([_action_item(action, today) for action in content.actions]),
        "meetings": _capped([_meeting_item(meeting, timezone) for meeting in content.meetings]),
        "minutes": _capped([_minutes_item(minutes, timezone) for minutes in content.minutes]),
        "awaiting": deliveries(content.awaiting),
        "awaiting_management": deliveries(content.awaiting_management),
        "received": deliveries(content.received),
        "responses": deliveries(content.responses),
        "decisions": _capped([_decision_item(d, timezone) for d in content.decisions]),
    }


def digest(
    recipient: Recipient,
    content: DigestContent,
    *,
    day: dt.date,
    frequency: str,
    today: dt.date,
    timezone: str,
) -> PendingEmail:
    """The recipient's digest for their local `day` (one per person and day): what concerns
    them, section by section, with times in their zone and dates by the organisation's
    `today` (what is overdue)."""
    return PendingEmail(
        recipient,
        "digest",
        {
            **_digest_sections(content, today, timezone),
            "frequency": frequency,
            "day": format_date(day),
            "overdue_count": sum(1 for action in content.actions if action.due_on < today),
        },
        f"digest:user:{recipient.user_id}:{day.isoformat()}",
        DIGEST,
    )
