"""Papers and annexes (documents) and their contents, stored in the database.

A file's bytes are kept once per SHA-256, whoever added it and to whatever record: one
`DocumentContent` row with its size, and its bytes in `DocumentBlob` rows of at most 1 MiB
each, so that a download is streamed one chunk at a time and several web processes,
backups and restores need nothing but the database. A `Document` is one version of one
paper: the first version's id is its `series`, and each new version is a row of its own.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Bytea,
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
from governance.meetings.tables import AgendaItem, Meeting, Minutes
from governance.reports.tables import Report
from governance.resolutions.tables import WrittenResolution


class DocumentContent(Table, tablename="document_content"):
    id = Serial(primary_key=True)
    sha256 = Varchar(length=64, unique=True, index=True)
    size = BigInt(default=0)
    chunk_count = Integer(default=0)
    created_at = Timestamptz()


class DocumentBlob(Table, tablename="document_blob"):
    """One chunk of a content; (sha256, chunk_index) is unique (an index made by the
    migration)."""

    id = Serial(primary_key=True)
    sha256 = Varchar(length=64, index=True)
    chunk_index = Integer(default=0)
    data = Bytea()


class Document(Table, tablename="document"):
    id = Serial(primary_key=True)
    group = ForeignKey(references=WorkingGroup, on_delete=OnDelete.cascade, index=True)
    # What holds it: "meeting", "agenda_item", "minutes", "report" or "resolution", and that
    # record's id.
    holder_kind = Varchar(length=20)
    holder_id = Integer(index=True)
    # The holder's records, for the visibility of what holds it (set where they apply).
    meeting = ForeignKey(
        references=Meeting, on_delete=OnDelete.cascade, null=True, default=None, index=True
    )
    agenda_item = ForeignKey(
        references=AgendaItem, on_delete=OnDelete.cascade, null=True, default=None
    )
    minutes = ForeignKey(references=Minutes, on_delete=OnDelete.cascade, null=True, default=None)
    report = ForeignKey(
        references=Report, on_delete=OnDelete.cascade, null=True, default=None, index=True
    )
    resolution = ForeignKey(
        references=WrittenResolution,
        on_delete=OnDelete.cascade,
        null=True,
        default=None,
        index=True,
    )
    # The id of the paper's first version; every version of the paper carries it.
    series = Integer(default=0, index=True)
    version = Integer(default=1)
    title = Varchar(length=300)
    file_name = Varchar(length=255)
    media_type = Varchar(length=120)
    size = BigInt(default=0)
    sha256 = Varchar(length=64, index=True)
    visibility = Varchar(length=20, default="internal")
    added_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    added_at = Timestamptz()
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
