"""Whether approved minutes, and their decisions, still hold what was approved.

Approval stores the SHA-256 of the canonical JSON of what was approved (`Minutes.content_hash`):
the minutes' summary, the attendance, and the agenda as approved (each item's title,
visibility, notes, position and record) with each item's decisions and votes. Each decision
also gets a hash of its own (`Decision.content_hash`), and the minutes keep the hash of each
part (`Minutes.part_hashes`: the summary with the attendance, and each item with the hashes
of its decisions), so that a page can check exactly the parts it shows a reader, and never
reveals through a warning that a part it does not show has changed.

Left out, because they may change after approval by design: whether an item is still open
(it is carried forward later), conflicts of interest, errata (appended, never edits) and the
meeting's own details.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from governance.core.audit import (
    CONTENT_CHANGED,
    RecordMismatch,
    audited_hashes,
    hash_problem,
)
from governance.meetings.schemas import MinutesStatus
from governance.meetings.tables import AgendaItem, Attendance, Decision, Minutes

OK = "ok"
MISMATCH = "mismatch"
RECORD_PART = "record"
APPROVED_ACTION = "minutes.approved"


def _sha256(value: Any) -> str:
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def decision_document(decision: Mapping[str, Any]) -> dict[str, Any]:
    """What a decision's hash covers; `agenda_item` or `agenda_item_id` names its item."""
    item = decision["agenda_item"] if "agenda_item" in decision else decision["agenda_item_id"]
    return {
        "id": decision["id"],
        "agenda_item": item,
        "text": decision["text"],
        "votes_for": decision["votes_for"],
        "votes_against": decision["votes_against"],
        "votes_abstain": decision["votes_abstain"],
        "quorum_met": bool(decision["quorum_met"]),
    }


def decision_hash(decision: Mapping[str, Any]) -> str:
    return _sha256(decision_document(decision))


def decision_integrity(decision: Mapping[str, Any]) -> str | None:
    """ "ok" or "mismatch" for a decision of approved minutes; None before approval."""
    if not decision["content_hash"]:
        return None
    return OK if decision_hash(decision) == decision["content_hash"] else MISMATCH


def record_document(summary: str, attendance: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The minutes' own text and who attended, in a fixed order."""
    present = sorted(
        [row["user"], row["guest_name"] or "", row["mode"]]
        for row in attendance
        if row["user"] is not None
    )
    guests = sorted(
        [None, row["guest_name"] or "", row["mode"]] for row in attendance if row["user"] is None
    )
    return {"summary": summary, "attendance": present + guests}


def item_document(
    item: Mapping[str, Any], decisions: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """An agenda item as approved, with the hashes of its decisions in their order."""
    return {
        "id": item["id"],
        "position": item["position"],
        "title": item["title"],
        "visibility": item["visibility"],
        "notes": item["notes"],
        "minutes": item["minutes_text"],
        "decisions": [decision_hash(d) for d in sorted(decisions, key=lambda d: d["id"])],
    }


@dataclass(frozen=True)
class Sealed:
    """The hashes of one meeting's minutes as they stand."""

    content_hash: str
    part_hashes: dict[str, Any]
    decision_hashes: dict[int, str]


def seal_of(
    meeting_id: int,
    summary: str,
    attendance: list[dict[str, Any]],
    items: list[dict[str, Any]],
    decisions: list[dict[str, Any]],
) -> Sealed:
    by_item: dict[int, list[dict[str, Any]]] = {item["id"]: [] for item in items}
    for decision in decisions:
        by_item.setdefault(decision["agenda_item"], []).append(decision)
    ordered = sorted(items, key=lambda item: (item["position"], item["id"]))
    record = record_document(summary, attendance)
    agenda = [item_document(item, by_item[item["id"]]) for item in ordered]
    document = {"meeting": meeting_id, "record": record, "agenda": agenda}
    parts = {
        RECORD_PART: _sha256(record),
        "items": {str(doc["id"]): _sha256(doc) for doc in agenda},
    }
    hashes = {int(d["id"]): decision_hash(d) for d in decisions}
    return Sealed(_sha256(document), parts, hashes)


async def sealed_now(minutes: Mapping[str, Any]) -> Sealed:
    """The hashes of these minutes' meeting as its rows stand now (three queries)."""
    meeting_id = minutes["meeting"]
    attendance = await Attendance.select(
        Attendance.user, Attendance.guest_name, Attendance.mode
    ).where(Attendance.meeting == meeting_id)
    items = await AgendaItem.select(
        AgendaItem.id,
        AgendaItem.position,
        AgendaItem.title,
        AgendaItem.visibility,
        AgendaItem.notes,
        AgendaItem.minutes_text,
    ).where(AgendaItem.meeting == meeting_id)
    decisions = await Decision.select(
        Decision.id,
        Decision.agenda_item,
        Decision.text,
        Decision.votes_for,
        Decision.votes_against,
        Decision.votes_abstain,
        Decision.quorum_met,
    ).where(Decision.meeting == meeting_id)
    return seal_of(meeting_id, minutes["summary"], attendance, items, decisions)


async def seal_minutes(meeting_id: int) -> str:
    """Stores the hashes of the meeting's minutes and decisions as they stand; called by the
    approval, in its transaction. Returns the minutes' hash."""
    # Only the columns it needs: the migration that seals older minutes runs this too,
    # before any later migration has added columns of its own.
    minutes = (
        await Minutes.select(Minutes.id, Minutes.meeting, Minutes.summary)
        .where(Minutes.meeting == meeting_id)
        .first()
    )
    if minutes is None:
        return ""
    sealed = await sealed_now(minutes)
    await Minutes.update(
        {
            Minutes.content_hash: sealed.content_hash,
            Minutes.part_hashes: json.dumps(sealed.part_hashes, sort_keys=True),
        }
    ).where(Minutes.id == minutes["id"])
    for decision_id, digest in sealed.decision_hashes.items():
        await Decision.update({Decision.content_hash: digest}).where(Decision.id == decision_id)
    return sealed.content_hash


async def seal_unsealed_minutes() -> None:
    """Seals minutes approved before they had a hash (the migration that added it)."""
    rows = await Minutes.select(Minutes.meeting).where(
        (Minutes.status == MinutesStatus.APPROVED) & (Minutes.content_hash == "")
    )
    for row in rows:
        await seal_minutes(row["meeting"])


def part_hashes(minutes: Mapping[str, Any]) -> dict[str, Any]:
    try:
        parts = json.loads(minutes["part_hashes"] or "{}")
    except ValueError:
        return {}
    return parts if isinstance(parts, dict) else {}


def record_integrity(minutes: Mapping[str, Any], attendance: Iterable[Mapping[str, Any]]) -> str:
    """Whether approved minutes' summary and attendance still have their hash."""
    expected = part_hashes(minutes).get(RECORD_PART)
    actual = _sha256(record_document(minutes["summary"], attendance))
    return OK if minutes["content_hash"] and expected == actual else MISMATCH


def items_integrity(
    minutes: Mapping[str, Any],
    items: Iterable[Mapping[str, Any]],
    decisions: Iterable[Mapping[str, Any]],
) -> str:
    """Whether the items a page shows of approved minutes (with their decisions) still have
    their hashes. Only what is shown is hashed: it is cheap, and a warning tells a reader
    nothing of an item they cannot read."""
    stored = part_hashes(minutes).get("items")
    stored_items = stored if isinstance(stored, dict) else {}
    by_item: dict[int, list[Mapping[str, Any]]] = {}
    for decision in decisions:
        key = decision["agenda_item"] if "agenda_item" in decision else decision["agenda_item_id"]
        by_item.setdefault(key, []).append(decision)
    for item in items:
        actual = _sha256(item_document(item, by_item.get(item["id"], [])))
        if stored_items.get(str(item["id"])) != actual:
            return MISMATCH
    return OK


async def _minutes_mismatches(
    minutes: Mapping[str, Any], audited: Mapping[str, str]
) -> list[RecordMismatch]:
    sealed = await sealed_now(minutes)
    found = []
    problem = hash_problem(
        sealed.content_hash, minutes["content_hash"], audited.get(str(minutes["id"]))
    )
    if not problem and sealed.part_hashes != part_hashes(minutes):
        problem = "the hashes of its parts do not match its content"
    if problem:
        found.append(RecordMismatch("minutes", minutes["id"], problem))
    stored = await Decision.select(Decision.id, Decision.content_hash).where(
        Decision.meeting == minutes["meeting"]
    )
    for row in stored:
        if sealed.decision_hashes.get(row["id"]) != row["content_hash"]:
            found.append(RecordMismatch("decision", row["id"], CONTENT_CHANGED))
    return found


async def mismatched_minutes(batch_size: int = 200) -> list[RecordMismatch]:
    """Every approved minutes, and decision in them, whose content no longer matches its
    hash (or whose hash is not the one the audit trail recorded at approval)."""
    audited = await audited_hashes(APPROVED_ACTION)
    found: list[RecordMismatch] = []
    last_id = 0
    while True:
        rows = (
            await Minutes.select()
            .where((Minutes.status == MinutesStatus.APPROVED) & (Minutes.id > last_id))
            .order_by(Minutes.id)
            .limit(batch_size)
        )
        if not rows:
            return found
        for row in rows:
            found.extend(await _minutes_mismatches(row, audited))
        last_id = rows[-1]["id"]
