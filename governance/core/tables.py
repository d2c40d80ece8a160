"""Tables of the plumbing: the audit trail, the email outbox, the scheduler's lease and job runs."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_event"):
    """Append-only, hash-chained record of every change to governance data."""

    id = Serial(primary_key=True)
    sequence = Integer(unique=True, index=True)
    occurred_at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor_label = Varchar(length=320)
    action = Varchar(length=100, index=True)
    entity_type = Varchar(length=50)
    entity_id = Varchar(length=100)
    # Never confidential text: titles of board or group items stay out of the trail.
    summary = Text()
    previous_hash = Varchar(length=64)
    hash = Varchar(length=64)
    # How `hash` was made: "hmac-sha256" (keyed from the secret key) for every event since
    # the chain was keyed; "sha256" for events written before.
    scheme = Varchar(length=20, default="sha256")
    # Who may read the event in the trail, recorded when it is written (see
    # core.audit.EventScope): the group and visibility of the record it is about. Both None
    # for an event about no group content (accounts, groups, memberships). Not part of the
    # hash: who may read an event is not what happened.
    group_id = Integer(null=True, default=None)
    visibility = Varchar(length=20, null=True, default=None)


class AuditChainHead(Table, tablename="audit_chain_head"):
    """The newest event of the audit chain (one row), updated in the transaction of every
    event: deleting the newest events leaves the head pointing past the end of the chain.
    `seal` is an HMAC of the head keyed from the secret key, so a database writer alone
    cannot move the head back either."""

    id = Serial(primary_key=True)
    sequence = Integer()
    hash = Varchar(length=64)
    seal = Varchar(length=64)
    updated_at = Timestamptz()


class OutboundEmail(Table, tablename="outbound_email"):
    """The outbox: domain code queues rows here in its own transaction; a job sends them."""

    id = Serial(primary_key=True)
    recipient = Varchar(length=320)
    template = Varchar(length=100)
    context = JSON()
    dedupe_key = Varchar(length=255, unique=True)
    status = Varchar(length=20, default="queued", index=True, index_method=IndexMethod.btree)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    claimed_until = Timestamptz(null=True, default=None)
    # Which scheduler (lease holder) claimed the row, so that the next holder can release
    # a dead one's claims at once instead of waiting for them to expire.
    claimed_by = Varchar(length=200, default="")
    # Set while a send is under way: a row found with it set after its sender died may have
    # been sent, and is not sent again without a decision (see core/email.py).
    sending_since = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    message_id = Varchar(length=255, default="")
    # Who may read the row in the outbox list: the group and visibility of what the email
    # tells of, as for audit events. Both None for mail about no group content.
    group_id = Integer(null=True, default=None)
    visibility = Varchar(length=20, null=True, default=None)


class SchedulerLease(Table, tablename="scheduler_lease"):
    """Who may run scheduled jobs: one row per lease name, held until `expires_at`.

    A scheduler takes the row when it is free or expired and keeps renewing it; any other
    scheduler waits until the holder stops renewing. See governance/scheduler.py.
    """

    id = Serial(primary_key=True)
    name = Varchar(length=50, unique=True)
    holder = Varchar(length=200, default="")
    acquired_at = Timestamptz()
    expires_at = Timestamptz()


class JobRun(Table, tablename="job_run"):
    """The last run of each scheduled job, by whichever scheduler ran it (for the
    operations page): one row per job name, replaced at every run."""

    id = Serial(primary_key=True)
    name = Varchar(length=50, unique=True)
    holder = Varchar(length=200, default="")
    started_at = Timestamptz()
    finished_at = Timestamptz()
    succeeded = Boolean(default=True)
    outcome = Varchar(length=500, default="")


class AuditRedaction(Table, tablename="audit_redaction"):
    """How an audit event is shown after the person it names was erased. The event itself
    is never changed (its hash covers its words, and the chain must still verify); the
    trail shows these words in its place."""

    id = Serial(primary_key=True)
    sequence = Integer(unique=True, index=True)
    actor_label = Varchar(length=320)
    summary = Text(default="")
