"""The audit trail: one hash-chained event per change, written in the change's transaction.

Each event's hash covers its fields and the previous event's hash. Since the chain was
keyed, the hash is an HMAC-SHA256 whose key is derived from the secret key and is not in
the database, so someone who can write to the database but does not hold the secret key
cannot rebuild the chain after altering it. The newest event is also recorded in a head
row (`AuditChainHead`) sealed with the same key and updated in the same transaction, so
deleting the newest events is caught too. `governance audit verify` prints the head, so it
can be written down outside the system and compared later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from governance.core.clock import utcnow
from governance.core.db import get_engine, is_postgres
from governance.core.tables import AuditChainHead, AuditEvent, AuditRedaction
from governance.settings import get_settings

GENESIS_HASH = "0" * 64
SCHEME_PLAIN = "sha256"  # events written before the chain was keyed
SCHEME_KEYED = "hmac-sha256"
# Any fixed number: every writer of the chain takes this advisory lock on PostgreSQL.
AUDIT_CHAIN_LOCK_KEY = 0x6A0D17


class Actor(Protocol):
    """Whoever causes a change: a signed-in user or the system itself."""

    @property
    def actor_id(self) -> int | None: ...

    @property
    def actor_label(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    actor_label: str = "system"
    actor_id: int | None = None


SYSTEM = SystemActor()


@dataclass(frozen=True)
class EventScope:
    """Who may read an event (or an outbox row) in a list: the readers of the record it is
    about, as that record's group and visibility when the event is written, so that the
    list applies its reader's visibility without reaching into other domains' tables.
    `group_id` None with a visibility: a record of no one group (the organisation's
    transparency report), read by whoever reads that visibility outside their groups."""

    group_id: int | None
    visibility: str


# Called with (entity_type, entity_id) after each event is appended, inside the change's
# transaction: how a read-only domain (search) keeps a derived copy current without core
# knowing about it, and without a domain's service calling it. A listener that fails
# fails the change, so that the copy is never silently behind.
EventListener = Callable[[str, str], Awaitable[None]]
_listeners: list[EventListener] = []


def after_event(listener: EventListener) -> EventListener:
    """Registers `listener` to run after every event, in the event's transaction (once,
    however many times it is registered)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def _canonical_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _chain_key() -> bytes:
    """The chain's key: derived from the secret key for this one purpose."""
    secret = get_settings().secret_key.encode()
    return hmac.new(secret, b"governance:audit-chain", hashlib.sha256).digest()


def compute_hash(fields: dict[str, Any]) -> str:
    """An event's hash, by the scheme it was written with (keyed unless it says otherwise)."""
    canonical = {
        "sequence": fields["sequence"],
        "occurred_at": _canonical_time(fields["occurred_at"]),
        "actor_id": fields["actor_id"],
        "actor_label": fields["actor_label"],
        "action": fields["action"],
        "entity_type": fields["entity_type"],
        "entity_id": str(fields["entity_id"]),
        "summary": fields["summary"],
        "previous_hash": fields["previous_hash"],
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if fields.get("scheme", SCHEME_KEYED) == SCHEME_PLAIN:
        return hashlib.sha256(encoded.encode()).hexdigest()
    return hmac.new(_chain_key(), encoded.encode(), hashlib.sha256).hexdigest()


def head_seal(sequence: int, event_hash: str) -> str:
    return hmac.new(
        _chain_key(), f"head:{sequence}:{event_hash}".encode(), hashlib.sha256
    ).hexdigest()


async def _write_head(sequence: int, event_hash: str) -> None:
    seal, now = head_seal(sequence, event_hash), utcnow()
    updated = (
        await AuditChainHead.update(
            {
                AuditChainHead.sequence: sequence,
                AuditChainHead.hash: event_hash,
                AuditChainHead.seal: seal,
                AuditChainHead.updated_at: now,
            }
        )
        .where(AuditChainHead.id == 1)
        .returning(AuditChainHead.id)
    )
    if not updated:
        await AuditChainHead.insert(
            AuditChainHead(id=1, sequence=sequence, hash=event_hash, seal=seal, updated_at=now)
        )


async def seal_head() -> None:
    """Points the head at the chain's newest event (the migration that added the head)."""
    tail = (
        await AuditEvent.select(AuditEvent.sequence, AuditEvent.hash)
        .order_by(AuditEvent.sequence, ascending=False)
        .first()
    )
    if tail is not None:
        await _write_head(tail["sequence"], tail["hash"])


async def record_event(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object,
    summary: str,
    scope: EventScope | None = None,
) -> None:
    """Appends one event. Call inside the write transaction of the change it records.

    `scope`: the group and visibility of the record the event is about; None for an event
    about no group content, which every reader of the trail may read."""
    engine = get_engine()
    if engine.current_transaction.get() is None:
        raise RuntimeError("record_event must run inside the transaction of the change")
    if is_postgres(engine):
        # Serialises appends so that concurrent writers cannot both extend the same tail.
        await engine.run_ddl(f"SELECT pg_advisory_xact_lock({AUDIT_CHAIN_LOCK_KEY})")
    tail = (
        await AuditEvent.select(AuditEvent.sequence, AuditEvent.hash)
        .order_by(AuditEvent.sequence, ascending=False)
        .first()
    )
    fields: dict[str, Any] = {
        "sequence": (tail["sequence"] + 1) if tail else 1,
        "occurred_at": utcnow(),
        "actor_id": actor.actor_id,
        "actor_label": actor.actor_label,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "summary": summary[:500],
        "previous_hash": tail["hash"] if tail else GENESIS_HASH,
        "scheme": SCHEME_KEYED,
    }
    fields["hash"] = compute_hash(fields)
    if scope is not None:
        fields["group_id"], fields["visibility"] = scope.group_id, scope.visibility
    await AuditEvent.insert(AuditEvent(**fields))
    await _write_head(fields["sequence"], fields["hash"])
    for listener in _listeners:
        await listener(entity_type, str(entity_id))


async def current_head() -> tuple[int, str]:
    """The chain's newest event (sequence and hash), as its head row records it; (0, "")
    before the first. Inside a write transaction, so the next event recorded in it follows
    this head directly (on PostgreSQL the chain's lock is taken here already)."""
    engine = get_engine()
    if engine.current_transaction.get() is None:
        raise RuntimeError("current_head must run inside a write transaction")
    if is_postgres(engine):
        await engine.run_ddl(f"SELECT pg_advisory_xact_lock({AUDIT_CHAIN_LOCK_KEY})")
    head = await _read_head()
    return (int(head["sequence"]), str(head["hash"])) if head else (0, "")


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    events_checked: int
    first_bad_sequence: int | None = None
    problem: str = ""
    # The newest event as the head row records it: worth writing down outside the system.
    head_sequence: int = 0
    head_hash: str = ""


async def _events_in_order(batch_size: int = 1000) -> AsyncIterator[dict[str, Any]]:
    last_sequence = 0
    while True:
        rows = (
            await AuditEvent.select()
            .where(AuditEvent.sequence > last_sequence)
            .order_by(AuditEvent.sequence)
            .limit(batch_size)
        )
        if not rows:
            return
        for row in rows:
            yield row
        last_sequence = rows[-1]["sequence"]


async def _read_head() -> dict[str, Any] | None:
    return await AuditChainHead.select().where(AuditChainHead.id == 1).first()  # type: ignore[no-any-return]


def _event_problem(row: dict[str, Any], expected: int, previous: str, keyed: bool) -> str:
    if row["sequence"] != expected:
        return f"event {expected} is missing"
    if row["previous_hash"] != previous:
        return "does not follow the event before it"
    if keyed and row["scheme"] != SCHEME_KEYED:
        return "is not keyed although an earlier event is"
    if row["scheme"] not in {SCHEME_PLAIN, SCHEME_KEYED} or compute_hash(row) != row["hash"]:
        return "its content does not match its hash"
    return ""


def _head_problem(head: dict[str, Any] | None, last: int, last_hash: str) -> tuple[int, str]:
    """Whether the head row agrees with the chain's newest event."""
    if head is None:
        return (1, "the chain's head is missing") if last else (0, "")
    if not hmac.compare_digest(head["seal"], head_seal(head["sequence"], head["hash"])):
        return max(last, 1), "the chain's head has been altered"
    if head["sequence"] > last:
        missing = (
            f"event {last + 1} is"
            if head["sequence"] == last + 1
            else f"events {last + 1} to {head['sequence']} are"
        )
        return last + 1, f"{missing} missing from the end"
    if head["sequence"] < last or head["hash"] != last_hash:
        return head["sequence"] + 1, "events were added after the chain's head"
    return 0, ""


async def verify_chain() -> ChainVerdict:
    """Recomputes every hash; reports the first event that was altered, removed or moved,
    and whether the newest events are all there (against the sealed head)."""
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    keyed = False
    async for row in _events_in_order():
        problem = _event_problem(row, expected_sequence, previous_hash, keyed)
        if problem:
            bad = expected_sequence if problem.endswith("missing") else row["sequence"]
            return ChainVerdict(False, checked, bad, problem)
        keyed = keyed or row["scheme"] == SCHEME_KEYED
        previous_hash = row["hash"]
        expected_sequence += 1
        checked += 1
    head = await _read_head()
    bad, problem = _head_problem(head, checked, previous_hash)
    head_sequence, head_hash = (head["sequence"], head["hash"]) if head else (0, "")
    if problem:
        return ChainVerdict(False, checked, bad, problem, head_sequence, head_hash)
    return ChainVerdict(True, checked, head_sequence=head_sequence, head_hash=head_hash)


# --- the hashes of frozen records, as the chain recorded them ----------------------------

HASH_IN_SUMMARY = re.compile(r"\bsha256 ([0-9a-f]{64})\b")
CONTENT_CHANGED = "its content does not match its hash"
HASH_CHANGED = "its hash differs from the one the audit trail recorded when it was frozen"


@dataclass(frozen=True)
class RecordMismatch:
    """A frozen record (a submitted report, approved minutes...) that has been changed."""

    kind: str
    id: int
    problem: str


def hash_problem(computed: str, stored: str, audited: str | None) -> str:
    """What is wrong with a frozen record's hash, or an empty string. The audit trail's
    copy, being in the keyed chain, also catches content rewritten together with its hash."""
    if computed != stored:
        return CONTENT_CHANGED
    if audited is not None and audited != stored:
        return HASH_CHANGED
    return ""


async def audited_hashes(action: str) -> dict[str, str]:
    """Entity id → the SHA-256 named in the summary of that action's event (the latest)."""
    rows = (
        await AuditEvent.select(AuditEvent.entity_id, AuditEvent.summary)
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.sequence)
    )
    found: dict[str, str] = {}
    for row in rows:
        match = HASH_IN_SUMMARY.search(row["summary"])
        if match:
            found[str(row["entity_id"])] = match.group(1)
    return found


async def as_shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events as the trail shows them: where a person named in one was erased, with the
    redacted words (the event itself, and its hash, never change)."""
    if not rows:
        return rows
    redactions = await AuditRedaction.select().where(
        AuditRedaction.sequence.is_in([row["sequence"] for row in rows])
    )
    shown = {redaction["sequence"]: redaction for redaction in redactions}
    for row in rows:
        if row["sequence"] in shown:
            row["actor_label"] = shown[row["sequence"]]["actor_label"]
            row["summary"] = shown[row["sequence"]]["summary"]
    return rows
