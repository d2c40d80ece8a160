"""A group's proceedings: meetings, their agenda, who attended, minutes and decisions."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from governance.accounts.tables import User
from governance.groups.tables import WorkingGroup


class Meeting(Table, tablename="meeting"):
    id = Serial(primary_key=True)
    group = ForeignKey(references=WorkingGroup, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    location = Varchar(length=500, default="")
    status = Varchar(length=20, default="scheduled")  # scheduled, held, cancelled
    cancel_reason = Text(default="")
    # Raised on every change people should see in their calendars (iCalendar SEQUENCE).
    calendar_sequence = Integer(default=0)
    # When the chair (or the scheduler, 7 days ahead) sent the meeting notice; None: not yet.
    notice_sent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class MeetingReply(Table, tablename="meeting_reply"):
    """A member's answer to the meeting notice: attending, attending remotely or apologies.
    One per member and meeting (a unique index); a new answer replaces the last. The
    attendance form starts from these."""

    id = Serial(primary_key=True)
    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade)
    mode = Varchar(length=20)  # attending, remote, apologies
    replied_at = Timestamptz()


class AgendaItem(Table, tablename="agenda_item"):
    id = Serial(primary_key=True)
    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    title = Varchar(length=300)
    visibility = Varchar(length=20, default="internal")
    notes = Text(default="")
    # What the minutes record for this item; frozen once the minutes are approved.
    minutes_text = Text(default="")
    # Left open at the end of a meeting, it can be carried to the next one.
    is_open = Boolean(default=False)
    carried_from = Integer(null=True, default=None)


class ConflictOfInterest(Table, tablename="conflict_of_interest"):
    id = Serial(primary_key=True)
    agenda_item = ForeignKey(references=AgendaItem, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict)
    description = Varchar(length=500, default="")


class Attendance(Table, tablename="attendance"):
    id = Serial(primary_key=True)
    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    guest_name = Varchar(length=200, default="")
    mode = Varchar(length=20)  # present, remote, apologies, absent


class Minutes(Table, tablename="minutes"):
    id = Serial(primary_key=True)
    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, unique=True, index=True)
    status = Varchar(length=20, default="draft")  # draft, circulated, approved
    summary = Text(default="")
    circulated_at = Timestamptz(null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    approved_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    approved_at_meeting = Integer(null=True, default=None)
    approval_method = Varchar(length=20, default="")  # meeting, circulation
    updated_at = Timestamptz()
    # Set at approval (meetings/integrity.py): the SHA-256 of the canonical JSON of what was
    # approved, and the hashes of its parts (JSON text) so a page can check what it shows.
    content_hash = Varchar(length=64, default="")
    part_hashes = Text(default="")


class MinutesComment(Table, tablename="minutes_comment"):
    id = Serial(primary_key=True)
    minutes = ForeignKey(references=Minutes, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(references=User, on_delete=OnDelete.restrict)
    body = Text()
    created_at = Timestamptz()


class Erratum(Table, tablename="erratum"):
    """A correction appended to approved minutes, which themselves never change."""

    id = Serial(primary_key=True)
    minutes = ForeignKey(references=Minutes, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(references=User, on_delete=OnDelete.restrict)
    body = Text()
    # A correction can concern a confidential item, so it has a visibility of its own.
    visibility = Varchar(length=20, default="internal")
    created_at = Timestamptz()


class Decision(Table, tablename="decision"):
    id = Serial(primary_key=True)
    meeting = ForeignKey(references=Meeting, on_delete=OnDelete.cascade, index=True)
    agenda_item = ForeignKey(references=AgendaItem, on_delete=OnDelete.cascade, index=True)
    text = Text()
    votes_for = Integer(default=0)
    votes_against = Integer(default=0)
    votes_abstain = Integer(default=0)
    quorum_met = Boolean()
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    # Set when the minutes that hold it are approved: the SHA-256 of the decision and votes.
    content_hash = Varchar(length=64, default="")


class CalendarFeed(Table, tablename="calendar_feed"):
    """A person's secret calendar URL; the token's SHA-256 is kept, and resetting replaces it."""

    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, unique=True, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz()
