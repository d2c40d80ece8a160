"""Reports and recommendations, and one delivery per reporting line they are addressed to."""

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
from governance.groups.tables import ReportingLine, WorkingGroup


class Report(Table, tablename="report"):
    id = Serial(primary_key=True)
    group = ForeignKey(references=WorkingGroup, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20)  # periodic, recommendation
    period = Varchar(length=10, default="", index=True)  # e.g. 2026-Q4, for periodic reports
    title = Varchar(length=300)
    body = Text(default="")
    visibility = Varchar(length=20, default="internal")
    to_director = Boolean(default=True)
    to_board = Boolean(default=True)
    status = Varchar(length=20, default="draft", index=True)  # draft, submitted
    # A follow-up names the report it follows; submitted reports never change.
    follows_up = Integer(null=True, default=None)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None, index=True)
    submitted_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    content_hash = Varchar(length=64, default="")


class Delivery(Table, tablename="delivery"):
    """A submitted report as one reporting line received it, with that line's own state."""

    id = Serial(primary_key=True)
    report = ForeignKey(references=Report, on_delete=OnDelete.restrict, index=True)
    line = ForeignKey(references=ReportingLine, on_delete=OnDelete.restrict, index=True)
    recipient = Varchar(length=20, index=True)  # director, board
    state = Varchar(
        length=20, default="delivered", index=True
    )  # delivered, read, acknowledged, responded
    delivered_at = Timestamptz()
    response_due_on = Date(index=True)
    read_at = Timestamptz(null=True, default=None)
    read_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by = ForeignKey(
        references=User, on_delete=OnDelete.restrict, null=True, default=None
    )
    responded_at = Timestamptz(null=True, default=None)
    responded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    response = Varchar(length=30, default="")  # accepted, partially_accepted, declined, noted
    rationale = Text(default="")


class ReportingPeriod(Table, tablename="reporting_period"):
    """One period of one line's schedule, as recorded when it happened and never rewritten.

    The row is written when the period starts (by the schedule's sweep) or when a report for
    it is submitted, whichever comes first, with the due date of the settings the period
    began with; its outcome is written once, when it happens: `on_time` or `late` by the
    submission of its report, `missed` by the sweep once `closes_on` has come without one.
    A report that comes after that is linked to the period, which stays `missed`.
    """

    id = Serial(primary_key=True)
    line = ForeignKey(references=ReportingLine, on_delete=OnDelete.restrict, index=True)
    period = Varchar(length=10)  # e.g. 2026-Q4
    cadence = Varchar(length=20)  # the cadence the period was cut in
    starts_on = Date()
    ends_on = Date()
    due_on = Date()
    # The day it is recorded as missed without a report: the next period's due date.
    closes_on = Date()
    outcome = Varchar(length=20, default="")  # "" while owed; on_time, late, missed
    # The report submitted for the period (its first; a correction follows that one up).
    report = ForeignKey(references=Report, on_delete=OnDelete.restrict, null=True, default=None)
    submitted_on = Date(null=True, default=None)
    recorded_at = Timestamptz()
    outcome_at = Timestamptz(null=True, default=None)
    # One row per line and period: a unique index made by the migration of 2026-12-03 (a
    # Piccolo constraint is an ALTER TABLE, which SQLite does not have).


class BoardResponseProposal(Table, tablename="board_response_proposal"):
    """A Board member's proposal of the Board line's response to a delivery, which becomes
    the line's response only once the Board's rule is met (`reports.board`). Read by the
    Board alone: the Director learns nothing of it, and the delivery's own row does not
    change while it is pending."""

    id = Serial(primary_key=True)
    delivery = ForeignKey(references=Delivery, on_delete=OnDelete.restrict, index=True)
    proposed_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    proposed_at = Timestamptz()
    response = Varchar(length=30)  # accepted, partially_accepted, declined, noted
    rationale = Text(default="")
    # The follow-up actions proposed, as the JSON of `schemas.ResponseAction` items;
    # created when the response is recorded.
    actions = Text(default="[]")
    # How many concurrences besides the proposer's were needed when it was made.
    concurrences_needed = Integer(default=1)
    status = Varchar(length=20, default="pending", index=True)
    # pending, recorded, withdrawn, lapsed
    closed_at = Timestamptz(null=True, default=None)
    closed_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    # Set when it was recorded as decided at a Board meeting rather than by concurrence.
    meeting_name = Varchar(length=200, default="")
    meeting_on = Date(null=True, default=None)


class ProposalConcurrence(Table, tablename="proposal_concurrence"):
    """One Board member's concurrence with, or objection to, a proposed Board response; one
    per member and proposal (a unique index made by its migration)."""

    id = Serial(primary_key=True)
    proposal = ForeignKey(references=BoardResponseProposal, on_delete=OnDelete.restrict, index=True)
    member = ForeignKey(references=User, on_delete=OnDelete.restrict)
    stance = Varchar(length=10)  # concur, object
    reason = Text(default="")
    recorded_at = Timestamptz()
