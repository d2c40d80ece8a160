"""Written resolutions and their votes."""

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


class WrittenResolution(Table, tablename="written_resolution"):
    id = Serial(primary_key=True)
    group = ForeignKey(references=WorkingGroup, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=300)
    text = Text()
    visibility = Varchar(length=20, default="internal")
    closes_at = Timestamptz(index=True)
    # open, withdrawn, carried, not_carried (schemas.ResolutionStatus).
    status = Varchar(length=20, default="open", index=True)
    proposed_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    proposed_at = Timestamptz()
    # When voting ended: the closing time, the last member's vote or the withdrawal.
    closed_at = Timestamptz(null=True, default=None, index=True)
    # Frozen at the close: the group's rule then, the members on the closing date, the
    # votes of those members, and whether enough of them voted (the group's quorum rule).
    rule = Varchar(length=20, default="")
    members_counted = Integer(default=0)
    votes_for = Integer(default=0)
    votes_against = Integer(default=0)
    votes_abstain = Integer(default=0)
    quorum_met = Boolean(default=False)


class ResolutionVote(Table, tablename="resolution_vote"):
    # One per resolution and member: a unique index on (resolution, user) (the migration).
    id = Serial(primary_key=True)
    resolution = ForeignKey(references=WrittenResolution, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    choice = Varchar(length=20)  # for, against, abstain
    comment = Text(default="")
    cast_at = Timestamptz()
    # Set at the close: whether the voter was a member on the closing date.
    counted = Boolean(default=True)
