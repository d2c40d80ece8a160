"""Keeping the index current: each record's rows re-read from its domain and rewritten.

`reindex_entity` runs after every audit event (core.audit.after_event), inside the
change's transaction, so the index is committed or rolled back with the change it follows.
It maps the event's entity to the record that owns the text (its "root": a meeting holds
its agenda items, minutes and decisions; a report its lines' responses; a written
resolution its motion), deletes that
root's rows and inserts them again from what the tables hold now. A record that no longer
exists leaves no rows. `rebuild_index` does the same for every record (the migration's
backfill and `governance search reindex`).

Search only reads the other domains: the rows copy each record's group, visibility and
status as they are, and the search query applies the reader's visibility to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from governance.accounts.scopes import narrows
from governance.actions.tables import ActionItem
from governance.core.clock import date_in_zone
from governance.documents.tables import Document
from governance.meetings.tables import AgendaItem, Decision, Meeting, Minutes
from governance.reports.tables import Delivery, Report
from governance.resolutions.tables import WrittenResolution
from governance.search.schemas import SearchKind
from governance.search.tables import SearchEntry

# Marks the start and end of a highlighted term in a snippet; never stored in the index,
# so that a record's own text cannot forge a highlight (see queries.render_snippet).
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
_UNSTORABLE = str.maketrans({HIGHLIGHT_START: " ", HIGHLIGHT_END: " ", "\x00": " "})
# Room for any row of a record's text; longer text is cut (search still finds its start).
MAX_INDEXED_CHARACTERS = 100_000
INTERNAL = "internal"  # rows read by whoever reads the meeting (scopes.search_entries)

Entry = dict[str, Any]


def _clean(text: str | None) -> str:
    return (text or "").translate(_UNSTORABLE)[:MAX_INDEXED_CHARACTERS]


def _day(moment: dt.datetime | dt.date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, dt.datetime):
        return date_in_zone(moment).isoformat()
    return moment.isoformat()


def _entry(kind: str, record_id: int, link_id: int, **fields: Any) -> Entry:
    return {
        "kind": kind,
        "record_id": record_id,
        "link_id": link_id,
        "status": fields.get("status", ""),
        "group_id": fields["group_id"],
        "visibility": fields["visibility"],
        "occurred_on": fields["occurred_on"],
        "title": _clean(fields["title"]),
        "body": _clean(fields.get("body", "")),
    }


# --- one root each ------------------------------------------------------------------------


async def _meeting_entries(meeting_id: int) -> list[Entry]:
    meeting = (
        await Meeting.select(
            Meeting.id,
            Meeting.group,
            Meeting.title,
            Meeting.starts_at,
            Meeting.status,
            Meeting.location,
        )
        .where(Meeting.id == meeting_id)
        .first()
    )
    if meeting is None:
        return []
    day, group_id = _day(meeting["starts_at"]), meeting["group"]
    entries = [
        _entry(
            SearchKind.MEETING,
            meeting_id,
            meeting_id,
            group_id=group_id,
            visibility=INTERNAL,
            status=meeting["status"],
            occurred_on=day,
            title=meeting["title"],
            body=meeting["location"],
        )
    ]
    items = await AgendaItem.select(
        AgendaItem.id,
        AgendaItem.title,
        AgendaItem.visibility,
        AgendaItem.notes,
        AgendaItem.minutes_text,
    ).where(AgendaItem.meeting == meeting_id)
    for item in items:
        entries.append(
            _entry(
                SearchKind.AGENDA_ITEM,
                item["id"],
                meeting_id,
                group_id=group_id,
                visibility=item["visibility"],
                occurred_on=day,
                title=item["title"],
                body=item["notes"],
            )
        )
    entries += await _minutes_entries(meeting, items, day)
    entries += await _decision_entries(meeting, {item["id"]: item for item in items}, day)
    return entries


async def _minutes_entries(
    meeting: Mapping[str, Any], items: list[dict[str, Any]], day: str
) -> list[Entry]:
    """The minutes' summary (read by the meeting's readers) and each item's record (read
    by the item's); both carry the minutes' status, since drafts are their writers' only."""
    minutes = (
        await Minutes.select(Minutes.id, Minutes.status, Minutes.summary)
        .where(Minutes.meeting == meeting["id"])
        .first()
    )
    if minutes is None:
        return []
    common = {"group_id": meeting["group"], "status": minutes["status"], "occurred_on": day}
    entries = []
    if minutes["summary"].strip():  # minutes not yet written have nothing to find
        entries.append(
            _entry(
                SearchKind.MINUTES,
                minutes["id"],
                meeting["id"],
                visibility=INTERNAL,
                title=f"Minutes: {meeting['title']}",
                body=minutes["summary"],
                **common,
            )
        )
    for item in items:
        if item["minutes_text"].strip():
            entries.append(
                _entry(
                    SearchKind.MINUTES,
                    minutes["id"],
                    meeting["id"],
                    visibility=item["visibility"],
                    title=f"Minutes: {item['title']}",
                    body=item["minutes_text"],
                    **common,
                )
            )
    return entries


async def _decision_entries(
    meeting: Mapping[str, Any], items: Mapping[int, Mapping[str, Any]], day: str
) -> list[Entry]:
    decisions = await Decision.select(Decision.id, Decision.agenda_item, Decision.text).where(
        Decision.meeting == meeting["id"]
    )
    return [
        _entry(
            SearchKind.DECISION,
            decision["id"],
            meeting["id"],
            group_id=meeting["group"],
            visibility=items[decision["agenda_item"]]["visibility"],
            occurred_on=day,
            title=items[decision["agenda_item"]]["title"],
            body=decision["text"],
        )
        for decision in decisions
        if decision["agenda_item"] in items
    ]


async def _action_entries(action_id: int) -> list[Entry]:
    action = (
        await ActionItem.select(
            ActionItem.id,
            ActionItem.group,
            ActionItem.visibility,
            ActionItem.status,
            ActionItem.created_at,
            ActionItem.title,
            ActionItem.description,
        )
        .where(ActionItem.id == action_id)
        .first()
    )
    if action is None:
        return []
    return [
        _entry(
            SearchKind.ACTION,
            action_id,
            action_id,
            group_id=action["group"],
            visibility=action["visibility"],
            status=action["status"],
            occurred_on=_day(action["created_at"]),
            title=action["title"],
            body=action["description"],
        )
    ]


async def _report_entries(report_id: int) -> list[Entry]:
    report = (
        await Report.select(
            Report.id,
            Report.group,
            Report.visibility,
            Report.status,
            Report.submitted_at,
            Report.created_at,
            Report.title,
            Report.body,
        )
        .where(Report.id == report_id)
        .first()
    )
    if report is None:
        return []
    common = {"group_id": report["group"], "visibility": report["visibility"]}
    entries = [
        _entry(
            SearchKind.REPORT,
            report_id,
            report_id,
            status=report["status"],
            occurred_on=_day(report["submitted_at"] or report["created_at"]),
            title=report["title"],
            body=report["body"],
            **common,
        )
    ]
    deliveries = await Delivery.select(
        Delivery.id,
        Delivery.recipient,
        Delivery.response,
        Delivery.rationale,
        Delivery.responded_at,
    ).where((Delivery.report == report_id) & (Delivery.response != ""))
    for delivery in deliveries:
        response = delivery["response"].replace("_", " ")
        entries.append(
            _entry(
                SearchKind.RESPONSE,
                delivery["id"],
                report_id,
                status=report["status"],
                occurred_on=_day(delivery["responded_at"]),
                title=f"Response of the {delivery['recipient']} line: {report['title']}",
                body=f"{response}. {delivery['rationale']}",
                **common,
            )
        )
    return entries


async def _resolution_entries(resolution_id: int) -> list[Entry]:
    """A written resolution: its title and motion, with its group, visibility and status
    (read by whoever reads the resolution, scopes.resolutions)."""
    resolution = (
        await WrittenResolution.select(
            WrittenResolution.id,
            WrittenResolution.group,
            WrittenResolution.visibility,
            WrittenResolution.status,
            WrittenResolution.proposed_at,
            WrittenResolution.title,
            WrittenResolution.text,
        )
        .where(WrittenResolution.id == resolution_id)
        .first()
    )
    if resolution is None:
        return []
    return [
        _entry(
            SearchKind.RESOLUTION,
            resolution_id,
            resolution_id,
            group_id=resolution["group"],
            visibility=resolution["visibility"],
            status=resolution["status"],
            occurred_on=_day(resolution["proposed_at"]),
            title=resolution["title"],
            body=resolution["text"],
        )
    ]


async def _value(table: Any, column: Any, row_id: int) -> Any:
    row = await table.select(column.as_alias("value")).where(table.id == row_id).first()
    return None if row is None else row["value"]


async def _holder_state(document: Mapping[str, Any]) -> tuple[str, str]:
    """The narrowest visibility of the paper and what holds it, and the holder's status
    the reader's rule needs ("report:<status>": other groups read it once submitted;
    "minutes:<status>": a draft's annexes are its writers' only). Visibilities are nested
    (scopes.narrows), so the narrower of two is read exactly by those who read both."""
    visibility, status = document["visibility"], ""
    if document["agenda_item"] is not None:
        item = await _value(AgendaItem, AgendaItem.visibility, document["agenda_item"])
        visibility = _narrower(visibility, item)
    if document["report"] is not None:
        report = (
            await Report.select(Report.visibility, Report.status)
            .where(Report.id == document["report"])
            .first()
        )
        if report is not None:
            visibility = _narrower(visibility, report["visibility"])
            status = f"report:{report['status']}"
    if document["resolution"] is not None:
        resolution = await _value(
            WrittenResolution, WrittenResolution.visibility, document["resolution"]
        )
        visibility = _narrower(visibility, resolution)
    if document["minutes"] is not None:
        minutes = await _value(Minutes, Minutes.status, document["minutes"])
        status = f"minutes:{minutes}"
    return visibility, status


def _narrower(first: str, second: Any) -> str:
    if second is None:
        return first
    return first if narrows(str(second), first) else str(second)


async def _document_entries(series: int) -> list[Entry]:
    """A paper's current version (its highest, unless the paper is withdrawn): its title,
    and its file name for the body."""
    document = (
        await Document.select(
            Document.id,
            Document.group,
            Document.visibility,
            Document.agenda_item,
            Document.minutes,
            Document.report,
            Document.resolution,
            Document.title,
            Document.file_name,
            Document.added_at,
            Document.withdrawn_at,
        )
        .where(Document.series == series)
        .order_by(Document.version, ascending=False)
        .first()
    )
    if document is None or document["withdrawn_at"] is not None:
        return []
    visibility, status = await _holder_state(document)
    return [
        _entry(
            SearchKind.DOCUMENT,
            document["id"],
            document["id"],
            group_id=document["group"],
            visibility=visibility,
            status=status,
            occurred_on=_day(document["added_at"]),
            title=document["title"],
            body=document["file_name"],
        )
    ]


async def _held_documents(root_key: str) -> list[int]:
    """The papers (series) a meeting's or report's change may hide or show: their rows
    copy the holder's visibility and status."""
    root_type, _, raw_id = root_key.partition(":")
    holder_id = int(raw_id)
    if root_type == "meeting":
        items = AgendaItem.select(AgendaItem.id).where(AgendaItem.meeting == holder_id)
        minutes = Minutes.select(Minutes.id).where(Minutes.meeting == holder_id)
        held: Any = (
            (Document.meeting == holder_id)
            | Document.agenda_item.is_in(items)
            | Document.minutes.is_in(minutes)
        )
    elif root_type == "report":
        held = Document.report == holder_id
    else:
        return []
    rows = await Document.select(Document.series).where(held).distinct()
    return sorted(row["series"] for row in rows)


# --- from an event to its root -------------------------------------------------------------


async def _parent(table: Any, column: Any, entity_id: int) -> int | None:
    row = await table.select(column.as_alias("parent")).where(table.id == entity_id).first()
    return None if row is None else int(row["parent"])


async def _root_of(entity_type: str, entity_id: int) -> str | None:
    """The root key whose rows an event about this entity changes; None: nothing indexed."""
    if entity_type == "document":  # a version's event: its paper (series)
        series = await _parent(Document, Document.series, entity_id)
        return None if series is None else f"document:{series}"
    if entity_type in ROOT_READERS:
        return f"{entity_type}:{entity_id}"
    if entity_type == "minutes":
        meeting_id = await _parent(Minutes, Minutes.meeting, entity_id)
    elif entity_type == "decision":
        meeting_id = await _parent(Decision, Decision.meeting, entity_id)
    elif entity_type == "delivery":
        report_id = await _parent(Delivery, Delivery.report, entity_id)
        return None if report_id is None else f"report:{report_id}"
    else:
        return None
    return None if meeting_id is None else f"meeting:{meeting_id}"


ROOT_READERS: dict[str, Callable[[int], Awaitable[list[Entry]]]] = {
    "meeting": _meeting_entries,
    "action": _action_entries,
    "report": _report_entries,
    "document": _document_entries,
    # The audit events of written resolutions name their table.
    "written_resolution": _resolution_entries,
}


async def reindex_root(root_key: str) -> int:
    """Rewrites one root's rows from its records; the number of rows it now has."""
    root_type, _, raw_id = root_key.partition(":")
    entries = await ROOT_READERS[root_type](int(raw_id))
    await SearchEntry.delete().where(SearchEntry.root_key == root_key)
    if entries:
        await SearchEntry.insert(*(SearchEntry(root_key=root_key, **e) for e in entries))
    return len(entries)


async def reindex_entity(entity_type: str, entity_id: str) -> None:
    """The audit listener: re-indexes the record an event is about, if it is indexed."""
    if not entity_id.isascii() or not entity_id.isdigit():
        return
    if entity_type not in ROOT_READERS and entity_type not in {"minutes", "decision", "delivery"}:
        return
    root_key = await _root_of(entity_type, int(entity_id))
    if root_key is not None:
        await reindex_root(root_key)
        for series in await _held_documents(root_key):
            await reindex_root(f"document:{series}")


async def _ids(table: Any) -> list[int]:
    return [row["id"] for row in await table.select(table.id).order_by(table.id)]


async def rebuild_index() -> int:
    """Empties the index and indexes every record again; the number of rows written.
    Call inside a write transaction."""
    await SearchEntry.delete(force=True)
    written = 0
    roots = (
        ("meeting", Meeting),
        ("action", ActionItem),
        ("report", Report),
        ("written_resolution", WrittenResolution),
    )
    for root_type, table in roots:
        for record_id in await _ids(table):
            written += await reindex_root(f"{root_type}:{record_id}")
    series = await Document.select(Document.series).distinct().order_by(Document.series)
    for row in series:
        written += await reindex_root(f"document:{row['series']}")
    return written
