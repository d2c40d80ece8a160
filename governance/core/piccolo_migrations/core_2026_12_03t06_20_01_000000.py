"""Gives the audit events and outbox rows written before their subject's scope was recorded
the group and visibility of that subject, so that the trail and the outbox list leave them
out for readers who may not read it. The hashes do not cover the scope, so the chain stays
valid. A subject that no longer exists (a discarded draft) is taken as group-only: its
events are then listed for no one, rather than for someone who may not read it."""

import re

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T06:20:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Record the scope of earlier audit events and outbox rows"

INTERNAL, BOARD, GROUP, PUBLIC = "internal", "board", "group", "public"
CHUNK = 500
UNKNOWN = (None, GROUP)
ITEM_ID = re.compile(r"Agenda item (\d+)")
STATED_VISIBILITY = re.compile(r"\((public|internal|board|group)\)")


async def _pairs(table, sql):
    return {row["id"]: row for row in await table.raw(sql)}


async def _subjects(table):
    """Every record an event or an email may be about, by kind and id (raw SQL: the
    domains' tables as they are at this point of the migrations)."""
    return {
        "report": await _pairs(table, 'SELECT id, "group", visibility FROM report'),
        "delivery": await _pairs(table, "SELECT id, report FROM delivery"),
        "action": await _pairs(table, 'SELECT id, "group", visibility FROM action_item'),
        "meeting": await _pairs(table, 'SELECT id, "group" FROM meeting'),
        "minutes": await _pairs(table, "SELECT id, meeting FROM minutes"),
        "item": await _pairs(table, "SELECT id, meeting, visibility FROM agenda_item"),
        "decision": await _pairs(table, "SELECT id, agenda_item FROM decision"),
        "transparency": await _pairs(table, 'SELECT id, "group", edition FROM transparency_report'),
    }


def _number(text):
    return int(text) if str(text).isascii() and str(text).isdigit() else None


class _Scopes:
    def __init__(self, subjects):
        self.s = subjects

    def report(self, report_id):
        row = self.s["report"].get(report_id)
        return (row["group"], row["visibility"]) if row else UNKNOWN

    def delivery(self, delivery_id):
        row = self.s["delivery"].get(delivery_id)
        return self.report(row["report"]) if row else UNKNOWN

    def action(self, action_id):
        row = self.s["action"].get(action_id)
        return (row["group"], row["visibility"]) if row else UNKNOWN

    def meeting(self, meeting_id, visibility=INTERNAL):
        row = self.s["meeting"].get(meeting_id)
        return (row["group"], visibility) if row else UNKNOWN

    def minutes(self, minutes_id, visibility=INTERNAL):
        row = self.s["minutes"].get(minutes_id)
        return self.meeting(row["meeting"], visibility) if row else UNKNOWN

    def item(self, item_id):
        row = self.s["item"].get(item_id)
        return self.meeting(row["meeting"], row["visibility"]) if row else UNKNOWN

    def decision(self, decision_id):
        row = self.s["decision"].get(decision_id)
        return self.item(row["agenda_item"]) if row else UNKNOWN

    def transparency(self, report_id, published=False):
        row = self.s["transparency"].get(report_id)
        if row is None:
            return (None, BOARD)
        return (row["group"], PUBLIC if published and row["edition"] == PUBLIC else BOARD)


def _meeting_event(scopes, event, subject):
    action, summary = event["action"], event["summary"]
    if not action.startswith(("agenda_item.", "conflict.")):
        return scopes.meeting(subject)
    stated = STATED_VISIBILITY.search(summary)
    if stated:
        return scopes.meeting(subject, stated.group(1))
    item = ITEM_ID.search(summary)
    return scopes.item(int(item.group(1))) if item else UNKNOWN


def _event_scope(scopes, event):
    """The (group, visibility) of an event's subject, or None for no group content."""
    kind, action, subject = event["entity_type"], event["action"], _number(event["entity_id"])
    if subject is None:
        return None
    if kind == "report":
        drafting = action in {"report.drafted", "report.draft_updated", "report.draft_discarded"}
        return (scopes.report(subject)[0], GROUP) if drafting else scopes.report(subject)
    if kind == "delivery":
        return scopes.delivery(subject)
    if kind == "action":
        return scopes.action(subject)
    if kind == "decision":
        return scopes.decision(subject)
    if kind == "meeting":
        return _meeting_event(scopes, event, subject)
    if kind == "minutes":
        if action == "minutes.commented":
            return scopes.minutes(subject, GROUP)
        stated = STATED_VISIBILITY.search(event["summary"])
        return scopes.minutes(subject, stated.group(1) if stated else INTERNAL)
    if kind == "transparency_report":
        return scopes.transparency(subject, published=action == "transparency.published")
    return None


def _email_scope(scopes, key):
    """The (group, visibility) of what an email tells of, read from its dedupe key."""
    parts = key.split(":")
    if parts[0] == "reminder" and len(parts) > 2:
        kind, subject = parts[1], parts[2]
        if kind == "report" and subject == "group" and len(parts) > 3:
            group_id = _number(parts[3])
            return (group_id, INTERNAL) if group_id is not None else None
        number = _number(subject)
        if number is None:
            return None
        return {
            "action": scopes.action,
            "meeting": scopes.meeting,
            "minutes": scopes.minutes,
            "delivery": scopes.delivery,
        }.get(kind, lambda _: None)(number)
    number = _number(parts[1]) if len(parts) > 1 else None
    if number is None:
        return None
    if parts[0] == "delivery":
        return scopes.delivery(number)
    if parts[0] == "minutes":
        return scopes.minutes(number)
    if parts[0] == "transparency":
        return scopes.transparency(number, published=True)
    return None


async def _write(table, found):
    by_scope = {}
    for row_id, scope in found:
        if scope is not None:
            by_scope.setdefault(scope, []).append(row_id)
    for (group_id, visibility), ids in by_scope.items():
        for start in range(0, len(ids), CHUNK):
            await table.update({table.group_id: group_id, table.visibility: visibility}).where(
                table.id.is_in(ids[start : start + CHUNK])
            )


async def _scope_earlier_rows():
    from governance.core.tables import AuditEvent, OutboundEmail

    events = await AuditEvent.raw(
        "SELECT id, action, entity_type, entity_id, summary FROM audit_event "
        "WHERE visibility IS NULL"
    )
    emails = await OutboundEmail.raw(
        "SELECT id, dedupe_key FROM outbound_email WHERE visibility IS NULL"
    )
    if not events and not emails:
        return  # a new database: nothing written yet (and no domain tables so far)
    scopes = _Scopes(await _subjects(AuditEvent))
    await _write(AuditEvent, [(e["id"], _event_scope(scopes, e)) for e in events])
    await _write(OutboundEmail, [(e["id"], _email_scope(scopes, e["dedupe_key"])) for e in emails])


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(_scope_earlier_rows)
    return manager
