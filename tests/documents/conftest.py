"""A meeting with a Board-only agenda item, minutes and a draft report, for the documents
tests; and the small upload limit some of them use."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from governance.meetings import services as meetings
from governance.meetings.schemas import AgendaItemDetails
from governance.reports import services as reports
from governance.reports.schemas import ReportDraft
from tests.factories import make_meeting, viewer_for


@dataclass
class Setting:
    meeting_id: int
    internal_item: int
    board_item: int
    report_id: int


@pytest.fixture
async def setting(cast) -> Setting:
    chair = await viewer_for(cast.chair)
    meeting_id = await make_meeting(cast.slug, cast.chair)
    internal_item = await meetings.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Budget", visibility="internal"), chair
    )
    board_item = await meetings.add_agenda_item(
        meeting_id, AgendaItemDetails(title="Conduct of management", visibility="board"), chair
    )
    report_id = await reports.create_report(
        cast.slug,
        ReportDraft(kind="recommendation", period="", title="Hours", body="Text.", route="both"),
        chair,
    )
    return Setting(meeting_id, internal_item, board_item, report_id)
