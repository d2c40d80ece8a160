"""The contracts of operations: a person's data export, what an erasure did, the status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

Rows = list[dict[str, Any]]


class PersonalData(msgspec.Struct, kw_only=True):
    """Everything held about one person, as `governance person export` and the profile's
    "Download my data" give it."""

    account: dict[str, Any]
    memberships: Rows
    attendance: Rows
    meeting_replies: Rows
    conflicts_declared: Rows
    actions_owned: Rows
    action_updates_written: Rows
    minutes_comments: Rows
    responses_given: Rows
    resolutions_proposed: Rows
    # Their own votes only: how the others voted is not theirs.
    resolution_votes: Rows
    board_responses_proposed: Rows
    board_concurrences: Rows
    reports_submitted: Rows
    # Documents they added: names, sizes and hashes, never the contents.
    documents_added: Rows
    emails_queued: Rows
    audit_events_as_actor: Rows
    sign_ins: dict[str, Rows]
    about: str = (
        "Everything this Governance service holds about you. Records you share with others "
        "(a meeting you attended, an action you own) are named by their title only."
    )


class ErasureOutcome(msgspec.Struct, kw_only=True):
    user_id: int
    pseudonym: str
    changed: list[str]
    kept: list[str]


class JobRunView(msgspec.Struct, kw_only=True):
    name: str
    last_started_at: dt.datetime | None
    last_finished_at: dt.datetime | None
    succeeded: bool | None
    outcome: str


class BackupView(msgspec.Struct, kw_only=True):
    path: str
    made_at: str
    size: int
    sha256: str


class StatusView(msgspec.Struct, kw_only=True):
    """What an administrator checks on the operations page (and /api/v1/admin/status)."""

    database_engine: str
    database_size_bytes: int | None
    last_backup: BackupView | None
    nightly_backups: bool
    outbox_waiting: int
    outbox_parked: int
    outbox_sent_today: int
    lease_holder: str
    lease_expires_at: dt.datetime | None
    lease_held: bool
    jobs: list[JobRunView]
    audit_chain_intact: bool
    audit_events_checked: int
    audit_problem: str
