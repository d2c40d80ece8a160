"""The audit trail: one hash-chained event per change, written in the change's transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from governance.core.clock import utcnow
from governance.core.db import get_engine, is_postgres
from governance.core.tables import AuditEvent

GENESIS_HASH = "0" * 64
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


def _canonical_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def compute_hash(fields: dict[str, Any]) -> str:
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
    return hashlib.sha256(encoded.encode()).hexdigest()


async def record_event(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object,
    summary: str,
) -> None:
    """Appends one event. Call inside the write transaction of the change it records."""
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
    }
    fields["hash"] = compute_hash(fields)
    await AuditEvent.insert(AuditEvent(**fields))


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    events_checked: int
    first_bad_sequence: int | None = None
    problem: str = ""


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


async def verify_chain() -> ChainVerdict:
    """Recomputes every hash; reports the first event that was altered, removed or moved."""
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    async for row in _events_in_order():
        sequence = row["sequence"]
        if sequence != expected_sequence:
            return ChainVerdict(
                False, checked, expected_sequence, f"event {expected_sequence} is missing"
            )
        if row["previous_hash"] != previous_hash:
            return ChainVerdict(False, checked, sequence, "does not follow the event before it")
        if compute_hash(row) != row["hash"]:
            return ChainVerdict(False, checked, sequence, "its content does not match its hash")
        previous_hash = row["hash"]
        expected_sequence += 1
        checked += 1
    return ChainVerdict(True, checked)


async def recent_events(
    before_sequence: int | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the trail, newest first, and the sequence to continue from (or None)."""
    query = (
        AuditEvent.select(
            AuditEvent.sequence,
            AuditEvent.occurred_at,
            AuditEvent.actor_label,
            AuditEvent.action,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.summary,
        )
        .order_by(AuditEvent.sequence, ascending=False)
        .limit(limit + 1)
    )
    if before_sequence is not None:
        query = query.where(AuditEvent.sequence < before_sequence)
    rows = await query
    older = rows[limit - 1]["sequence"] if len(rows) > limit else None
    return rows[:limit], older
