"""Written resolutions for the tests: proposed by the chair of the shared cast's group
(four current members: chair, secretary, two members; and a former member)."""

from __future__ import annotations

import datetime as dt

from governance.core.clock import utcnow
from governance.core.tables import OutboundEmail
from governance.resolutions import services
from governance.resolutions.schemas import NewResolution, NewVote
from governance.resolutions.tables import WrittenResolution
from tests.factories import viewer_for
from tests.helpers import found

MOTION = "That the group adopts the wellbeing survey."


async def propose(
    cast, *, visibility: str = "internal", hours: int = 72, by: int | None = None, title: str = ""
) -> int:
    command = NewResolution(
        title=title or "Adopt the survey",
        text=MOTION,
        closes_at=(utcnow() + dt.timedelta(hours=hours)).replace(microsecond=0),
        visibility=visibility,
    )
    return await services.propose_resolution(cast.slug, command, await viewer_for(by or cast.chair))


async def vote(resolution_id: int, user_id: int, choice: str, comment: str = "") -> str:
    command = NewVote(choice=choice, comment=comment)
    return await services.cast_vote(resolution_id, command, await viewer_for(user_id))


async def status_of(resolution_id: int) -> str:
    row = found(
        await WrittenResolution.select(WrittenResolution.status)
        .where(WrittenResolution.id == resolution_id)
        .first()
    )
    return str(row["status"])


async def closes_at(resolution_id: int) -> dt.datetime:
    row = found(
        await WrittenResolution.select(WrittenResolution.closes_at)
        .where(WrittenResolution.id == resolution_id)
        .first()
    )
    return row["closes_at"]


async def move_close(resolution_id: int, moment: dt.datetime) -> None:
    """Moves the closing time, as time passing would."""
    await WrittenResolution.update({WrittenResolution.closes_at: moment}).where(
        WrittenResolution.id == resolution_id
    )


async def emails(template: str) -> list[dict]:
    return (
        await OutboundEmail.select(OutboundEmail.recipient, OutboundEmail.dedupe_key)
        .where(OutboundEmail.template == template)
        .order_by(OutboundEmail.id)
    )
