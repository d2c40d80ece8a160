"""The search index: one row per searchable piece of text, with what visibility needs.

A derived copy of other domains' records, rebuilt from them at any time (`governance
search reindex`). The full-text part is per engine and made by the migration in raw SQL:
on SQLite an FTS5 table (`search_text`) over this table's title and body, kept in step by
triggers; on PostgreSQL a generated `tsvector` column (`document`) with a GIN index.
"""

from piccolo.columns import Integer, Serial, Text, Varchar
from piccolo.table import Table


class SearchEntry(Table, tablename="search_entry"):
    id = Serial(primary_key=True)
    # The record whose change re-indexes this row and its siblings ("meeting:4" holds the
    # meeting, its agenda items, minutes and decisions; "report:9" the report and responses).
    root_key = Varchar(length=60, index=True)
    kind = Varchar(length=20)  # meeting, agenda_item, minutes, decision, action, report, ...
    record_id = Integer()
    # Where the result links to (the meeting of an agenda item, the report of a response).
    link_id = Integer()
    group_id = Integer(index=True)
    visibility = Varchar(length=20)
    # What visibility needs beyond group and visibility: a report's status (drafts are the
    # group's only), minutes' status (drafts are their writers' only).
    status = Varchar(length=20, default="")
    occurred_on = Varchar(length=10, index=True)  # ISO date, compared as text on both engines
    title = Text(default="")
    body = Text(default="")
