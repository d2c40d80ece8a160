"""What a written resolution's members are told, and how they vote from their email: the
proposal (with one signed link per vote), the reminder a day before voting closes, and the
result. The services call these inside their write transaction, so an email is queued with
the change it tells of or not at all. A resolution's audience is its group's current
members, who read every visibility of their group's content; the check stays in
`notifications.audiences`, so the rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.core.signing import sign, unsign_id_pair
from governance.core.urls import absolute_url
from governance.documents import queries as documents
from governance.documents.schemas import HolderKind
from governance.notifications import emails
from governance.notifications.audiences import member_readers
from governance.notifications.emails import PaperLink, ResolutionRef
from governance.notifications.queries import Subscriber
from governance.resolutions.schemas import VOTE_CHOICES

VOTE_PURPOSE = "resolution-vote"
# A voting link works for long after any resolution it is for; the resolution's state
# decides whether a vote is still taken.
VOTE_LINK_MAX_AGE_SECONDS = 400 * 24 * 3600


def vote_token(resolution_id: int, user_id: int) -> str:
    return sign(VOTE_PURPOSE, [resolution_id, user_id])


def read_vote_token(token: str) -> tuple[int, int] | None:
    """(resolution id, user id) of a voting link; None for an altered, foreign or old link."""
    return unsign_id_pair(VOTE_PURPOSE, token, VOTE_LINK_MAX_AGE_SECONDS)


def vote_links(resolution_id: int, user_id: int) -> dict[str, str]:
    """One signed address per vote; each opens a page that asks before recording (mail
    scanners open links)."""
    base = absolute_url("resolutions:vote-by-link", vote_token=vote_token(resolution_id, user_id))
    return {choice: f"{base}?choice={choice}" for choice in VOTE_CHOICES}


def resolution_ref(row: Mapping[str, Any]) -> ResolutionRef:
    return ResolutionRef(
        resolution_id=row["id"],
        group_id=row["group"],
        group_name=row["group_name"],
        title=row["title"],
        visibility=row["visibility"],
        closes_at=row["closes_at"],
    )


async def audience(row: Mapping[str, Any]) -> list[Subscriber]:
    return await member_readers(row["group"], row["visibility"])


async def papers_for(resolution_id: int, reader: Subscriber) -> list[PaperLink]:
    """The resolution's current papers this reader may read (the documents' own condition,
    with their roles today), as an email links them: one query."""
    papers = await documents.held_documents(HolderKind.RESOLUTION, resolution_id, reader.viewer)
    return [
        PaperLink(title=paper.title, url=absolute_url("documents:show", document_id=paper.id))
        for paper in papers
    ]


async def tell_proposed(row: Mapping[str, Any], proposed_by: str, *, with_papers: bool) -> int:
    """To each current member: the motion, with their voting links and the papers they may
    read (`with_papers`: whether it has any, so that one without costs no query)."""
    ref = resolution_ref(row)
    told = 0
    for reader in await audience(row):
        papers = await papers_for(row["id"], reader) if with_papers else []
        told += await emails.resolution_proposed(
            reader.recipient,
            ref,
            text=row["text"],
            proposed_by=proposed_by,
            vote_links=vote_links(row["id"], reader.id),
            timezone=reader.timezone,
            papers=papers,
        )
    return told


async def remind(row: Mapping[str, Any], voted: set[int]) -> int:
    """To each current member who has not voted: voting closes within a day."""
    ref = resolution_ref(row)
    told = 0
    for reader in await audience(row):
        if reader.id in voted:
            continue
        told += await emails.resolution_reminder(
            reader.recipient,
            ref,
            vote_links=vote_links(row["id"], reader.id),
            timezone=reader.timezone,
        )
    return told


async def tell_result(row: Mapping[str, Any], outcome: str) -> int:
    """To each current member: carried, not carried or withdrawn, with the votes."""
    ref = resolution_ref(row)
    votes = {
        "for": row["votes_for"],
        "against": row["votes_against"],
        "abstain": row["votes_abstain"],
    }
    told = 0
    for reader in await audience(row):
        told += await emails.resolution_result(
            reader.recipient,
            ref,
            outcome=outcome,
            votes=votes,
            members=row["members_counted"],
            quorum_met=bool(row["quorum_met"]),
            timezone=reader.timezone,
        )
    return told
