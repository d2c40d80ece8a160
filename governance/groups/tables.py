"""Working groups, who serves on them and for how long, and the lines they report along."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    Date,
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


class WorkingGroup(Table, tablename="working_group"):
    id = Serial(primary_key=True)
    name = Varchar(length=200, unique=True)
    slug = Varchar(length=80, unique=True, index=True)
    mandate = Text(default="")
    # "majority": more than half of current members; "two_thirds"; "fixed": quorum_count.
    quorum_rule = Varchar(length=20, default="majority")
    quorum_count = Integer(default=0)
    # When a decision is carried (schemas.DecisionRule): "simple_majority" or "two_thirds".
    decision_rule = Varchar(length=20, default="simple_majority")
    # When a written resolution between meetings is carried (schemas.ResolutionRule):
    # "majority" (more than half of the members on the closing date vote for) or "unanimity".
    resolution_rule = Varchar(length=20, default="majority")
    # Off (the default): a meeting's notice goes out by itself 7 days ahead when the chair
    # has not sent it (meetings/services.send_due_notices); on: only when the chair sends it.
    notice_by_hand_only = Boolean(default=False)
    created_at = Timestamptz()


class Membership(Table, tablename="membership"):
    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    group = ForeignKey(references=WorkingGroup, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20, default="member")
    starts_on = Date()
    # Access ends at the end of this day; empty means open-ended.
    ends_on = Date(null=True, default=None)


class ReportingLine(Table, tablename="reporting_line"):
    id = Serial(primary_key=True)
    group = ForeignKey(references=WorkingGroup, on_delete=OnDelete.cascade, index=True)
    recipient = Varchar(length=20)  # "director" or "board"
    cadence = Varchar(length=20, default="quarterly")
    report_due_days = Integer(default=30)
    response_days = Integer(default=30)


class ReportingLineSettings(Table, tablename="reporting_line_settings"):
    """Each version of a line's schedule, kept from the moment it was made: a version applies
    to the periods that start after the day it was made, so a period under way keeps the
    cadence and due days it began with (reports/schedule.py reads them). Append-only."""

    id = Serial(primary_key=True)
    line = ForeignKey(references=ReportingLine, on_delete=OnDelete.cascade, index=True)
    cadence = Varchar(length=20)
    report_due_days = Integer()
    made_at = Timestamptz()
