"""Pulses: a group's short anonymous check-ins, their runs, invitations and responses.

Anonymity is a property of these tables, not of the pages: a response holds the run and
the answers, and nothing else. No user, no invitation, no token, no email, no time; its
primary key is a random UUID (an autoincrement would number responses in the order people
answered). An invitation holds a hash of its token and two flags, never when it was used.
`services.answer_pulse` also rewrites the run's responses in a shuffled order on every
answer, so neither their physical order nor their row versions follow the order of answers.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from governance.accounts.tables import User
from governance.groups.tables import WorkingGroup


class StaffMember(Table, tablename="staff_roster"):
    """Whom pulses are sent to: the staff's addresses, imported by an admin from CSV and
    kept apart from user accounts (staff need no account to answer)."""

    id = Serial(primary_key=True)
    email = Varchar(length=320, unique=True, index=True)
    name = Varchar(length=200, default="")
    active = Boolean(default=True)
    added_at = Timestamptz()


class Pulse(Table, tablename="pulse"):
    id = Serial(primary_key=True)
    group = ForeignKey(references=WorkingGroup, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    theme = Varchar(length=20, default="wellbeing")  # wellbeing, inclusion
    cadence = Varchar(length=20, default="quarterly")  # monthly, quarterly, once
    # The runs' visibility: who besides the group reads their results (internal, board, group).
    visibility = Varchar(length=20, default="internal")
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()


class PulseQuestion(Table, tablename="pulse_question"):
    id = Serial(primary_key=True)
    pulse = ForeignKey(references=Pulse, on_delete=OnDelete.cascade, index=True)
    position = Integer(default=1)
    kind = Varchar(length=20)  # scale, enps, choice, comment, demographic
    prompt = Varchar(length=300)
    # A scale's five labels (1 to 5), a choice's or demographic question's options.
    options = JSON(default=[])


class PulseRun(Table, tablename="pulse_run"):
    id = Serial(primary_key=True)
    pulse = ForeignKey(references=Pulse, on_delete=OnDelete.cascade, index=True)
    number = Integer(default=1)
    opens_on = Date()
    closes_on = Date(index=True)
    status = Varchar(length=20, default="open", index=True)  # open, closed
    visibility = Varchar(length=20, default="internal")
    invited = Integer(default=0)
    launched_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    launched_at = Timestamptz()


class PulseInvitation(Table, tablename="pulse_invitation"):
    """One invitee's single-use link to one run. It says whether it was used, never when,
    and nothing in a response points back to it."""

    id = Serial(primary_key=True)
    run = ForeignKey(references=PulseRun, on_delete=OnDelete.cascade, index=True)
    staff = ForeignKey(references=StaffMember, on_delete=OnDelete.set_null, null=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    used = Boolean(default=False)
    reminded = Boolean(default=False)


class PulseResponse(Table, tablename="pulse_response"):
    """One anonymous response: the run and the answers, keyed by question id."""

    id = UUID(primary_key=True)
    run = ForeignKey(references=PulseRun, on_delete=OnDelete.cascade, index=True)
    answers = JSON(default={})


# Every column a response row has. tests/pulses check the table against this list: a new
# column is a decision about anonymity, not a detail.
RESPONSE_COLUMNS = ("id", "run", "answers")
