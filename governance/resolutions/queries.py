"""Reads of written resolutions, with visibility applied in the query
(`accounts.scopes.resolutions`): a resolution its reader may not read is never fetched, so
it is "not found" exactly like a missing one and leaves no row or count behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from governance.accounts import scopes
from governance.accounts.policy import Viewer
from governance.core.clock import utcnow
from governance.core.db import PreparedSelect, one_row
from governance.documents import queries as documents
from governance.documents.schemas import HolderKind
from governance.groups.queries import get_group
from governance.meetings.schemas import MeetingStatus
from governance.meetings.tables import Meeting
from governance.resolutions.schemas import (
    DECIDED,
    BallotPage,
    ResolutionListView,
    ResolutionStatus,
    ResolutionSummaryView,
    ResolutionView,
    VoteView,
    accepts_votes,
)
from governance.resolutions.tables import ResolutionVote, WrittenResolution

NOT_FOUND = "There is no such written resolution."
# Matches no row: keeps `is_in([])` (invalid SQL on some engines) out of the queries.
NO_ROW = 0


def _columns() -> tuple[Any, ...]:
    return (
        *WrittenResolution.all_columns(),
        WrittenResolution.group.slug.as_alias("group_slug"),
        WrittenResolution.group.name.as_alias("group_name"),
        WrittenResolution.proposed_by.display_name.as_alias("proposed_by_name"),
    )


def _summary(row: dict[str, Any]) -> ResolutionSummaryView:
    fields = {name: row[name] for name in ResolutionSummaryView.__struct_fields__}
    return ResolutionSummaryView(**fields)


async def resolution_row(resolution_id: int) -> dict[str, Any]:
    """The resolution whatever its reader (for the services, once authorised)."""
    query = WrittenResolution.select(*_columns()).where(WrittenResolution.id == resolution_id)
    return await one_row(query, NOT_FOUND)


async def readable_resolution(resolution_id: int, viewer: Viewer) -> dict[str, Any]:
    """The resolution if this viewer may read it; not found otherwise (one query)."""
    query = WrittenResolution.select(*_columns()).where(
        (WrittenResolution.id == resolution_id) & scopes.resolutions(viewer)
    )
    return await one_row(query, NOT_FOUND)


async def votes_of(resolution_id: int) -> list[dict[str, Any]]:
    return await (  # type: ignore[no-any-return]
        ResolutionVote.select(
            *ResolutionVote.all_columns(),
            ResolutionVote.user.display_name.as_alias("voter_name"),
        )
        .where(ResolutionVote.resolution == resolution_id)
        .order_by(ResolutionVote.cast_at)
        .order_by(ResolutionVote.id)
    )


def is_open(row: Mapping[str, Any], now: dt.datetime) -> bool:
    return accepts_votes(row["status"], row["closes_at"], now)


async def resolution_view(
    resolution_id: int, viewer: Viewer, now: dt.datetime | None = None
) -> ResolutionView:
    """One resolution with its votes and papers: three queries."""
    now = now or utcnow()
    row = await readable_resolution(resolution_id, viewer)
    votes = await votes_of(resolution_id)
    papers = await documents.held_documents(HolderKind.RESOLUTION, resolution_id, viewer)
    mine = next((v["choice"] for v in votes if v["user"] == viewer.user.id), None)
    open_now = is_open(row, now)
    return ResolutionView(
        **{name: row[name] for name in ResolutionSummaryView.__struct_fields__},
        text=row["text"],
        rule=row["rule"],
        proposed_by_name=row["proposed_by_name"],
        proposed_at=row["proposed_at"],
        votes=[
            VoteView(
                voter_name=v["voter_name"],
                choice=v["choice"],
                comment=v["comment"],
                cast_at=v["cast_at"],
                counted=bool(v["counted"]),
            )
            for v in votes
        ],
        papers=papers,
        my_vote=mine,
        may_vote=open_now and mine is None and viewer.is_member_of(row["group"]),
        may_withdraw=open_now and viewer.leads(row["group"]),
        may_add_papers=open_now and viewer.leads(row["group"]),
    )


async def group_resolutions(slug: str, viewer: Viewer) -> ResolutionListView:
    """A group's resolutions this reader may read, newest first: two queries."""
    group = await get_group(slug)
    rows = (
        await WrittenResolution.select(*_columns())
        .where((WrittenResolution.group == group["id"]) & scopes.resolutions(viewer))
        .order_by(WrittenResolution.proposed_at, ascending=False)
        .order_by(WrittenResolution.id, ascending=False)
    )
    return ResolutionListView(
        group_slug=group["slug"],
        group_name=group["name"],
        may_propose=viewer.leads(group["id"]),
        resolutions=[_summary(row) for row in rows],
    )


# Built once per shape: the meeting page asks for these on every view.
_PREVIOUS_MEETING_START = PreparedSelect(
    lambda group_slug, before: (
        Meeting.select(Meeting.starts_at)
        .where(
            (Meeting.group.slug == group_slug)
            & (Meeting.starts_at < before)
            & (Meeting.status != MeetingStatus.CANCELLED)
        )
        .order_by(Meeting.starts_at, ascending=False)
        .limit(1)
    )
)


def _decided_between_query(
    viewer: Viewer, bounded_below: bool, group_slug: Any, since: Any, until: Any
) -> Any:
    condition = (
        (WrittenResolution.group.slug == group_slug)
        & WrittenResolution.status.is_in(list(DECIDED))
        & (WrittenResolution.closed_at < until)
        & scopes.resolutions(viewer)
    )
    if bounded_below:
        condition = condition & (WrittenResolution.closed_at >= since)
    return (
        WrittenResolution.select(*_columns())
        .where(condition)
        .order_by(WrittenResolution.closed_at)
        .order_by(WrittenResolution.id)
    )


_DECIDED_BETWEEN = PreparedSelect(_decided_between_query)


async def taken_since_last_meeting(
    group_slug: str, meeting_starts_at: dt.datetime, viewer: Viewer
) -> list[ResolutionSummaryView]:
    """For a meeting's minutes, "decisions taken since the last meeting": the group's
    resolutions decided after the start of its previous meeting (not cancelled) and before
    this one's, that this reader may read. Two queries."""
    previous = await _PREVIOUS_MEETING_START.run(group_slug=group_slug, before=meeting_starts_at)
    since = previous[0]["starts_at"] if previous else None
    return await decided_between(group_slug, since, meeting_starts_at, viewer)


async def decided_between(
    group_slug: str, since: dt.datetime | None, until: dt.datetime, viewer: Viewer
) -> list[ResolutionSummaryView]:
    """The group's resolutions decided (carried or not) in [since, until) that this reader
    may read, oldest first."""
    # Without a lower bound the query has no `since` condition (a bound None would not be
    # IS NULL), so whether there is one is part of the query's shape.
    rows = await _DECIDED_BETWEEN.run(
        viewer, since is not None, group_slug=group_slug, since=since, until=until
    )
    return [_summary(row) for row in rows]


async def decided_for_register(viewer: Viewer, group_id: int | None) -> list[dict[str, Any]]:
    """Decided resolutions this reader may read (one group's, or all), for the decision
    register: one query."""
    condition = WrittenResolution.status.is_in(list(DECIDED)) & scopes.resolutions(viewer)
    if group_id is not None:
        condition = condition & (WrittenResolution.group == group_id)
    return await (  # type: ignore[no-any-return]
        WrittenResolution.select(*_columns()).where(condition).order_by(WrittenResolution.closed_at)
    )


async def ballot_page(resolution_id: int, user_id: int, voter_name: str) -> BallotPage:
    """What a member's signed voting link shows them (the link is for a member of the group,
    who reads every visibility of it): two queries."""
    row = await resolution_row(resolution_id)
    vote = (
        await ResolutionVote.select(ResolutionVote.choice)
        .where((ResolutionVote.resolution == resolution_id) & (ResolutionVote.user == user_id))
        .first()
    )
    return BallotPage(
        resolution_id=resolution_id,
        group_name=row["group_name"],
        title=row["title"],
        text=row["text"],
        status=row["status"],
        closes_at=row["closes_at"],
        voter_name=voter_name,
        my_vote=vote["choice"] if vote else None,
        may_vote=vote is None and is_open(row, utcnow()),
    )


async def due_to_close(now: dt.datetime) -> list[int]:
    """Open resolutions whose closing time has come."""
    rows = await WrittenResolution.select(WrittenResolution.id).where(
        (WrittenResolution.status == ResolutionStatus.OPEN) & (WrittenResolution.closes_at <= now)
    )
    return [row["id"] for row in rows]


async def closing_within(now: dt.datetime, ahead: dt.timedelta) -> list[dict[str, Any]]:
    """Open resolutions closing in the next `ahead` (those whose reminder is due)."""
    return await WrittenResolution.select(*_columns()).where(  # type: ignore[no-any-return]
        (WrittenResolution.status == ResolutionStatus.OPEN)
        & (WrittenResolution.closes_at > now)
        & (WrittenResolution.closes_at <= now + ahead)
    )


_VOTERS_OF = PreparedSelect(
    lambda resolution_ids: ResolutionVote.select(
        ResolutionVote.resolution, ResolutionVote.user
    ).where(ResolutionVote.resolution.is_in(resolution_ids))
)


def _open_in(resolution: Any, group_ids: Any) -> Any:
    """Open resolutions of these groups (`resolution` is the table, or the foreign key that
    leads to it)."""
    return (resolution.status == ResolutionStatus.OPEN) & resolution.group.is_in(group_ids)


# Built once: "needs me" asks for both on every page read after a change.
_OPEN_IN_GROUPS = PreparedSelect(
    lambda group_ids: (
        WrittenResolution.select(*_columns())
        .where(_open_in(WrittenResolution, group_ids))
        .order_by(WrittenResolution.proposed_at)
    )
)
# The votes these people cast on those same resolutions, chosen by the same conditions, not
# by the resolutions found, so that both are read at once.
_VOTES_ON_OPEN_IN_GROUPS = PreparedSelect(
    lambda group_ids, user_ids: ResolutionVote.select(
        ResolutionVote.resolution, ResolutionVote.user
    ).where(_open_in(ResolutionVote.resolution, group_ids) & ResolutionVote.user.is_in(user_ids))
)


async def voters_of(resolution_ids: list[int]) -> set[tuple[int, int]]:
    """(resolution, user) of every vote cast on these resolutions: one query."""
    rows = await _VOTERS_OF.run(resolution_ids=list(resolution_ids) or [NO_ROW])
    return {(row["resolution"], row["user"]) for row in rows}


async def open_in_groups(group_ids: list[int]) -> list[dict[str, Any]]:
    """Open resolutions of these groups, oldest first ("needs me"): one query."""
    return await _OPEN_IN_GROUPS.run(group_ids=list(group_ids) or [NO_ROW])


async def votes_on_open_in_groups(
    group_ids: list[int], user_ids: list[int]
) -> set[tuple[int, int]]:
    """(resolution, user) of every vote these people cast on the open resolutions of these
    groups: one query, which does not wait on `open_in_groups`."""
    rows = await _VOTES_ON_OPEN_IN_GROUPS.run(
        group_ids=list(group_ids) or [NO_ROW], user_ids=list(user_ids) or [NO_ROW]
    )
    return {(row["resolution"], row["user"]) for row in rows}
