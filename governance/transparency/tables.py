"""Transparency reports: one row per scope, period, edition and version."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from governance.accounts.tables import User
from governance.groups.tables import WorkingGroup


class TransparencyReport(Table, tablename="transparency_report"):
    id = Serial(primary_key=True)
    # One group, or the whole organisation when group is empty (scope "organisation").
    group = ForeignKey(
        references=WorkingGroup, on_delete=OnDelete.restrict, null=True, default=None, index=True
    )
    period = Varchar(length=10, index=True)  # 2026-Q3 or 2026
    edition = Varchar(length=10)  # board, public
    version = Integer(default=1)
    # A regenerated report names the one it replaces; published ones never change.
    supersedes = Integer(null=True, default=None)
    status = Varchar(length=20, default="draft", index=True)  # draft, approved, published
    narrative = Text(default="")
    # The figures (TransparencyFigures.to_dict()), refreshed while a draft, frozen on publishing.
    content = JSON(default={})
    content_hash = Varchar(length=64, default="")
    created_at = Timestamptz()
    generated_at = Timestamptz()
    approved_at = Timestamptz(null=True, default=None)
    approved_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    published_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    # The audit chain's head when it was published (in its document, under its hash).
    audit_head_sequence = Integer(null=True, default=None)
    audit_head_hash = Varchar(length=64, default="")
