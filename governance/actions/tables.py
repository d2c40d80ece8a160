"""Action items, their owners and their progress updates."""

from __future__ import annotations

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from governance.accounts.tables import User
from governance.groups.tables import WorkingGroup


class ActionItem(Table, tablename="action_item"):
    id = Serial(primary_key=True)
    group = ForeignKey(references=WorkingGroup, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=300)
    description = Text(default="")
    # Where it came from: "group" (directly), "meeting", "decision" or "response" (a
    # reporting line's response to a report), with that record's id.
    source_type = Varchar(length=20, default="group")
    source_id = Integer(null=True, default=None, index=True)
    due_on = Date(index=True)
    status = Varchar(length=20, default="open", index=True)  # open, in_progress, done, dropped
    drop_reason = Text(default="")
    visibility = Varchar(length=20, default="internal")
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    completed_at = Timestamptz(null=True, default=None)


class ActionOwner(Table, tablename="action_owner"):
    id = Serial(primary_key=True)
    action = ForeignKey(references=ActionItem, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)


class ActionUpdate(Table, tablename="action_update"):
    id = Serial(primary_key=True)
    action = ForeignKey(references=ActionItem, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(references=User, on_delete=OnDelete.restrict)
    body = Text(default="")
    status_from = Varchar(length=20, default="")
    status_to = Varchar(length=20, default="")
    created_at = Timestamptz()
