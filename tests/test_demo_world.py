"""The demo looks like a real organisation (issue 16): groups of 6 to 9 members with people
who joined and left, each group with its own business, no two meetings of a group with the
same title, acknowledgements and responses dated days and weeks after delivery (not all
at seeding time), every action created before it falls due, and public editions that show
figures."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from zoneinfo import ZoneInfo

import pytest

from governance.actions.tables import ActionItem
from governance.core.clock import (
    as_of,
    date_in_zone,
    organisation_today,
    organisation_zone,
    utcnow,
)
from governance.core.tables import AuditEvent
from governance.demo import quarter_report_moments, seed_demo
from governance.groups.queries import members_on
from governance.groups.services import seed_default_groups
from governance.groups.tables import Membership, WorkingGroup
from governance.meetings.tables import AgendaItem, Meeting
from governance.reports.tables import Delivery
from governance.transparency.editions import all_figures, present
from governance.transparency.metrics import last_ended_quarter
from governance.transparency.tables import TransparencyReport

pytestmark = pytest.mark.slow


@pytest.fixture
async def demo() -> dict[str, int]:
    await seed_default_groups()
    await seed_demo()
    return {row["slug"]: row["id"] for row in await WorkingGroup.select()}


async def test_groups_have_six_to_nine_members_and_turnover(demo):
    today = organisation_today()
    for group_id in demo.values():
        assert 6 <= len(await members_on(group_id, today)) <= 9
        terms = await Membership.select().where(Membership.group == group_id)
        assert any(t["ends_on"] is not None and t["ends_on"] < today for t in terms), "left"
        assert any(t["starts_on"] > min(x["starts_on"] for x in terms) for t in terms), "joined"


async def test_each_group_has_its_own_actions_topics_and_minutes(demo):
    actions = {
        slug: {row["title"] for row in await ActionItem.select().where(ActionItem.group == gid)}
        for slug, gid in demo.items()
    }
    topics = {
        slug: {
            row["title"]
            for row in await AgendaItem.select(AgendaItem.title).where(
                AgendaItem.meeting.group == gid
            )
        }
        for slug, gid in demo.items()
    }
    assert actions["wellbeing"] and actions["ndi"]
    assert not actions["wellbeing"] & actions["ndi"]
    assert topics["wellbeing"] - {"Review of actions"}
    assert not (topics["wellbeing"] & topics["ndi"]) - {"Review of actions"}
    rows = await AgendaItem.select(AgendaItem.minutes_text).where(AgendaItem.minutes_text != "")
    minutes = [row["minutes_text"] for row in rows]
    assert minutes and not any(text.startswith("Discussion recorded") for text in minutes)
    assert len(set(minutes)) > 10  # minutes that say something, and differ


async def test_no_group_has_two_meetings_of_the_same_title(demo):
    for group_id in demo.values():
        titles = [row["title"] for row in await Meeting.select().where(Meeting.group == group_id)]
        assert len(titles) >= 10
        assert len(titles) == len(set(titles))


async def test_acknowledgements_and_responses_are_dated_when_they_happened(demo):
    now = utcnow()
    deliveries = await Delivery.select()
    acknowledged = [d for d in deliveries if d["acknowledged_at"] is not None]
    responded = [d for d in deliveries if d["responded_at"] is not None]
    assert len(responded) >= 10
    for delivery in acknowledged:
        assert delivery["delivered_at"] <= delivery["acknowledged_at"] < now
    days_to_respond = [(d["responded_at"] - d["delivered_at"]).days for d in responded]
    assert all(1 <= days <= 45 for days in days_to_respond), days_to_respond
    assert 7 <= statistics.median(days_to_respond) <= 35
    assert len({d["responded_at"].date() for d in responded}) >= len(responded) // 2
    # The audit trail carries the same days, not the moment of seeding.
    events = await AuditEvent.select(AuditEvent.occurred_at).where(
        AuditEvent.action == "delivery.acknowledged"
    )
    assert len({e["occurred_at"].date() for e in events}) > 5


async def test_every_action_is_created_before_it_falls_due(demo):
    rows = await ActionItem.select()
    assert rows
    for row in rows:
        assert date_in_zone(row["created_at"]) < row["due_on"], row["title"]


async def test_each_public_edition_shows_figures(demo):
    """The attendance rate is drawn from enough people to be shown in every public
    edition; the counts of the groups' activity (meetings held, actions opened) are shown
    whatever their size (issue 16): only figures about people are ever hidden."""
    reports = await TransparencyReport.select().where(TransparencyReport.edition == "public")
    assert len(reports) == 6  # three scopes, a published quarter and a draft year each
    for report in reports:
        content = report["content"]
        presented = present(json.loads(content) if isinstance(content, str) else content, "public")
        for group in presented.groups:
            shown = {f.metric for f in group.figures if not f.suppressed and f.value}
            assert {"attendance_rate", "attendance_people"} <= shown, group.slug
        # Nothing about people is small in groups of this size, and nothing else is hidden.
        assert not [f.metric for f in all_figures(presented) if f.suppressed], report["period"]


async def test_published_reports_are_dated_after_their_period_and_before_now(demo):
    """Counted, approved and published in the days after the quarter ended, not at seeding
    time; the document's own "generated" moment and the audit trail say the same."""
    now = utcnow()
    reports = await TransparencyReport.select().where(TransparencyReport.status == "published")
    assert len(reports) == 6  # three scopes, two editions, the last ended quarter
    published = {
        event["entity_id"]: event["occurred_at"]
        for event in await AuditEvent.select().where(AuditEvent.action == "transparency.published")
    }
    for report in reports:
        period = last_ended_quarter(organisation_today())
        assert report["period"] == period.label
        end = dt.datetime.combine(
            period.ends_on + dt.timedelta(days=1), dt.time(), organisation_zone()
        )
        steps = [report[name] for name in ("created_at", "approved_at", "published_at")]
        assert end < report["generated_at"] <= steps[1], report["id"]
        assert end < steps[0] <= steps[1] <= steps[2] < now, report["id"]
        # Within the fortnight after the quarter, not on the day the demo was seeded.
        assert steps[2] < end + dt.timedelta(days=14), report["id"]
        assert steps[2] <= published[str(report["id"])] < now
        content = report["content"]
        content = json.loads(content) if isinstance(content, str) else content
        assert end < dt.datetime.fromisoformat(content["generated_at"]) < now
    drafts = await TransparencyReport.select().where(TransparencyReport.status == "draft")
    assert drafts and all(d["period"] == str(organisation_today().year) for d in drafts)


def test_a_demo_seeded_just_after_a_quarter_dates_its_reports_in_the_time_since():
    """Seeded on the morning the quarter ended, the steps fit in the hours since."""
    ended = dt.datetime(2026, 10, 1, 0, 0, tzinfo=ZoneInfo("Europe/London"))
    with as_of(ended + dt.timedelta(hours=6)):
        moments = quarter_report_moments(dt.date(2026, 9, 30))
        now = utcnow()
    assert ended < moments[0] < moments[1] < moments[2] < now
    with as_of(ended + dt.timedelta(days=40)):
        moments = quarter_report_moments(dt.date(2026, 9, 30))
    assert [m.astimezone(ZoneInfo("Europe/London")).date().day for m in moments] == [4, 7, 9]
