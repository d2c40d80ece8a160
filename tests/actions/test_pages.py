"""Action pages through HTTP: My actions, the group's list and its CSV export, the action
page and its forms, what each role sees, forms that refuse bad input and change nothing, and
a fixed number of queries whatever the number of actions."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from governance.actions import queries, services
from governance.actions.schemas import ProgressNote, StatusChange
from governance.actions.tables import ActionItem, ActionOwner, ActionUpdate
from governance.core.clock import organisation_today
from governance.core.tables import AuditEvent
from tests.actions.conftest import make_action, make_overdue
from tests.factories import make_meeting, make_membership, make_user, viewer_for
from tests.helpers import field_error, found, post_form, shown_after_refusal, sign_in


def _day(days: int) -> str:
    return (organisation_today() + dt.timedelta(days=days)).isoformat()


async def _one_of_each(cast) -> dict[str, int]:
    return {
        visibility: await make_action(cast, f"{visibility.upper()}-ACTION", visibility=visibility)
        for visibility in ("public", "internal", "board", "group")
    }


async def _snapshot() -> dict[str, object]:
    return {
        "actions": await ActionItem.select().order_by(ActionItem.id),
        "owners": await ActionOwner.select().order_by(ActionOwner.id),
        "updates": await ActionUpdate.count(),
        "audit": await AuditEvent.count(),
    }


# --- My actions -------------------------------------------------------------------------


async def test_my_actions_lists_overdue_first_and_marks_them(client, cast):
    later = await make_action(cast, "LATER-ACTION", due_in_days=20)
    overdue = await make_action(cast, "OVERDUE-ACTION", due_in_days=1)
    await make_action(cast, "SOMEONE-ELSES", owners=[cast.member2])
    await make_overdue(overdue)
    await sign_in(client, cast.member)
    response = await client.get("/actions")
    assert response.status_code == 200
    html = response.text
    assert html.index("OVERDUE-ACTION") < html.index("LATER-ACTION")
    assert "SOMEONE-ELSES" not in html
    assert f'<tr class="overdue" id="action-{overdue}">' in html
    assert f'<tr id="action-{later}">' in html
    assert "Overdue</strong>" in html and "1 overdue." in html


async def test_my_actions_filters_by_status_and_group(client, cast):
    first = await make_action(cast, "FIRST-ACTION")
    await make_action(cast, "SECOND-ACTION")
    await services.update_status(
        first, StatusChange(status="in_progress", note=""), await viewer_for(cast.member)
    )
    await sign_in(client, cast.member)
    html = (await client.get("/actions?status=in_progress")).text
    assert "FIRST-ACTION" in html and "SECOND-ACTION" not in html
    html = (await client.get("/actions?group=ndi")).text
    assert "FIRST-ACTION" not in html and "No actions here." in html
    html = (await client.get(f"/actions?group={cast.slug}&status=")).text
    assert "FIRST-ACTION" in html and "SECOND-ACTION" in html
    response = await client.get("/actions?status=late")
    assert response.status_code == 422
    assert field_error(response.text, "status") == "Choose open, in progress, done or dropped."


async def test_my_actions_includes_what_i_created(client, cast):
    await make_action(cast, "CREATED-BY-CHAIR")
    await sign_in(client, cast.chair)
    html = (await client.get("/actions")).text
    assert "CREATED-BY-CHAIR" in html and "Creator" in html


# --- the group's list -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("chair", {"public", "internal", "board", "group"}),
        ("member", {"public", "internal", "board", "group"}),
        ("director", {"public", "internal"}),
        ("board", {"public", "internal", "board"}),
        ("stranger", set()),
        ("admin", set()),
    ],
)
async def test_group_list_shows_each_role_what_it_may_read(client, cast, who, visible):
    await _one_of_each(cast)
    await sign_in(client, getattr(cast, who))
    response = await client.get(f"/groups/{cast.slug}/actions")
    assert response.status_code == 200
    for visibility in ("public", "internal", "board", "group"):
        assert (f"{visibility.upper()}-ACTION" in response.text) == (visibility in visible)
    assert ("New action" in response.text) == (who == "chair")
    if not visible:
        assert "Only the group's members" in response.text


async def test_group_list_filters_by_status_and_owner(client, cast):
    await make_action(cast, "MEMBER-ACTION", owners=[cast.member])
    second = await make_action(cast, "MEMBER2-ACTION", owners=[cast.member2])
    await services.update_status(
        second, StatusChange(status="done", note=""), await viewer_for(cast.chair)
    )
    await sign_in(client, cast.director)
    html = (await client.get(f"/groups/{cast.slug}/actions?owner={cast.member2}")).text
    assert "MEMBER2-ACTION" in html and "MEMBER-ACTION<" not in html
    html = (await client.get(f"/groups/{cast.slug}/actions?status=open")).text
    assert "MEMBER-ACTION" in html and "MEMBER2-ACTION" not in html
    response = await client.get(f"/groups/{cast.slug}/actions?owner=someone&status=late")
    assert response.status_code == 422
    assert field_error(response.text, "owner") == "Owner must be a whole number."
    assert field_error(response.text, "status") is not None
    assert (await client.get("/groups/nowhere/actions")).status_code == 404


# --- the action page --------------------------------------------------------------------


async def test_action_page_shows_owners_due_status_and_the_timeline(client, cast):
    action_id = await make_action(cast, "SURVEY", owners=[cast.member, cast.member2])
    await services.add_progress(
        action_id, ProgressNote(body="Questions drafted"), await viewer_for(cast.member)
    )
    await sign_in(client, cast.member)
    html = (await client.get(f"/actions/{action_id}")).text
    assert "SURVEY" in html and "Member One, Member Two" in html
    assert "Questions drafted" in html
    assert f'action="/actions/{action_id}/status"' in html
    assert f'action="/actions/{action_id}/progress"' in html
    # Owners and due dates are for the chair.
    assert f'action="/actions/{action_id}/owners"' not in html
    client.cookies.clear()
    await sign_in(client, cast.chair)
    html = (await client.get(f"/actions/{action_id}")).text
    assert f'action="/actions/{action_id}/owners"' in html
    client.cookies.clear()
    await sign_in(client, cast.director)
    html = (await client.get(f"/actions/{action_id}")).text
    assert "SURVEY" in html and f'action="/actions/{action_id}/status"' not in html


@pytest.mark.parametrize(
    ("who", "visibility"),
    [("director", "board"), ("director", "group"), ("board", "group"), ("stranger", "internal")],
)
async def test_action_page_is_not_found_for_whoever_may_not_read_it(client, cast, who, visibility):
    action_id = await make_action(cast, "HIDDEN-ACTION", visibility=visibility)
    await sign_in(client, getattr(cast, who))
    response = await client.get(f"/actions/{action_id}")
    assert response.status_code == 404
    assert "HIDDEN-ACTION" not in response.text
    assert (await client.get("/actions/999999")).status_code == 404


async def test_new_action_form_and_creation(client, cast):
    meeting_id = await make_meeting(cast.slug, cast.chair, title="November meeting")
    await sign_in(client, cast.chair)
    response = await client.get(
        f"/groups/{cast.slug}/actions/new?source_type=meeting&source_id={meeting_id}"
    )
    assert response.status_code == 200
    assert "November meeting" in response.text
    assert f'value="{cast.member}"' in response.text and "Former Member" not in response.text
    response = await post_form(
        client,
        f"/groups/{cast.slug}/actions/new",
        {
            "title": "Book the venue",
            "description": "For the **away day**",
            "due_on": _day(10),
            "visibility": "internal",
            "owner_ids": [str(cast.member), str(cast.member2)],
            "source_type": "meeting",
            "source_id": str(meeting_id),
        },
    )
    assert response.status_code == 302
    action = found(await ActionItem.select().first())
    assert response.headers["location"] == f"/actions/{action['id']}"
    assert (action["source_type"], action["source_id"]) == ("meeting", meeting_id)
    assert await ActionOwner.count() == 2
    html = (await client.get(response.headers["location"])).text
    assert "<strong>away day</strong>" in html and f'href="/meetings/{meeting_id}"' in html


async def test_new_action_form_refuses_bad_input_and_creates_nothing(client, cast):
    await sign_in(client, cast.chair)
    before = await _snapshot()
    response = await post_form(
        client,
        f"/groups/{cast.slug}/actions/new",
        {"title": "", "due_on": "tomorrow", "visibility": "secret"},
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "title") == "Title is required."
    assert field_error(response.text, "due_on") == "Due date must be a date (YYYY-MM-DD)."
    assert found(field_error(response.text, "visibility")).startswith("Choose one of")
    assert field_error(response.text, "owner_ids") == "Choose at least one owner."
    response = await post_form(
        client,
        f"/groups/{cast.slug}/actions/new",
        {"title": "Late", "due_on": _day(-1), "owner_ids": [str(cast.member), str(cast.stranger)]},
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "due_on") == "The due date cannot be in the past."
    assert field_error(response.text, "owner_ids") == (
        "Choose owners from the group&#39;s current members."
    )
    # What was typed stays: the title and the ticked member.
    assert 'value="Late"' in response.text
    assert f'value="{cast.member}" checked' in response.text
    assert await _snapshot() == before


@pytest.mark.parametrize("who", ["member", "director", "board", "stranger"])
async def test_only_the_chair_or_secretary_gets_the_new_action_form(client, cast, who):
    await sign_in(client, getattr(cast, who))
    assert (await client.get(f"/groups/{cast.slug}/actions/new")).status_code == 403
    response = await post_form(
        client,
        f"/groups/{cast.slug}/actions/new",
        {"title": "Mine", "due_on": _day(3), "owner_ids": [str(cast.member)]},
    )
    assert response.status_code == 403
    assert await ActionItem.count() == 0


async def test_new_action_from_another_groups_meeting_is_not_found(client, cast):
    other_chair = await make_user("other-chair@example.org")
    await make_membership(other_chair, cast.other_group_id, "chair")
    other_meeting = await make_meeting("ndi", other_chair, title="NDI-MEETING")
    await sign_in(client, cast.chair)
    url = f"/groups/{cast.slug}/actions/new?source_type=meeting&source_id={other_meeting}"
    response = await client.get(url)
    assert response.status_code == 404 and "NDI-MEETING" not in response.text
    response = await client.get(f"/groups/{cast.slug}/actions/new?source_type=minutes")
    assert response.status_code == 422
    response = await post_form(
        client,
        f"/groups/{cast.slug}/actions/new",
        {
            "title": "Sneaky",
            "due_on": _day(3),
            "owner_ids": [str(cast.member)],
            "source_type": "meeting",
            "source_id": str(other_meeting),
        },
    )
    response = await shown_after_refusal(client, response)
    assert "not part of this group" in response.text
    assert await ActionItem.count() == 0


# --- changing an action -----------------------------------------------------------------


async def test_owner_changes_the_status_through_the_form(client, cast):
    action_id = await make_action(cast)
    await sign_in(client, cast.member)
    response = await post_form(
        client, f"/actions/{action_id}/status", {"status": "in_progress", "note": "Started"}
    )
    assert response.status_code == 302
    assert response.headers["location"] == f"/actions/{action_id}"
    response = await post_form(client, f"/actions/{action_id}/status", {"status": "done"})
    assert response.status_code == 302
    row = found(await ActionItem.select().where(ActionItem.id == action_id).first())
    assert row["status"] == "done" and row["completed_at"] is not None


async def test_refused_status_changes_show_the_reason_and_change_nothing(client, cast):
    action_id = await make_action(cast)
    await sign_in(client, cast.member)
    before = await _snapshot()
    response = await post_form(client, f"/actions/{action_id}/status", {"status": "dropped"})
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "note") == "Give the reason for dropping this action."
    response = await post_form(client, f"/actions/{action_id}/status", {"status": "open"})
    response = await shown_after_refusal(client, response)
    assert "This action is already open." in response.text
    response = await post_form(client, f"/actions/{action_id}/status", {"status": "later"})
    response = await shown_after_refusal(client, response)
    assert found(field_error(response.text, "status")).startswith("Choose one of")
    assert await _snapshot() == before
    await services.update_status(
        action_id, StatusChange(status="done", note=""), await viewer_for(cast.member)
    )
    response = await post_form(client, f"/actions/{action_id}/status", {"status": "open"})
    response = await shown_after_refusal(client, response)
    assert "its status is final" in response.text


@pytest.mark.parametrize(("who", "status"), [("member2", 403), ("board", 403), ("stranger", 404)])
async def test_only_owners_and_chairs_change_an_action(client, cast, who, status):
    action_id = await make_action(cast)
    await sign_in(client, getattr(cast, who))
    before = await _snapshot()
    for url, data in (
        (f"/actions/{action_id}/status", {"status": "done"}),
        (f"/actions/{action_id}/status", {"status": "nonsense"}),
        (f"/actions/{action_id}/progress", {"body": "Mine"}),
        (f"/actions/{action_id}/owners", {"owner_ids": [str(cast.member2)], "due_on": _day(9)}),
        (f"/actions/{action_id}/owners", {}),
    ):
        response = await post_form(client, url, data)
        assert response.status_code == status, (url, data, response.status_code)
    assert await _snapshot() == before


async def test_progress_form(client, cast):
    action_id = await make_action(cast)
    await sign_in(client, cast.member)
    response = await post_form(client, f"/actions/{action_id}/progress", {"body": " "})
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "body") == "A progress note cannot be empty."
    assert await ActionUpdate.count() == 0
    response = await post_form(client, f"/actions/{action_id}/progress", {"body": "Half done"})
    assert response.status_code == 302
    assert "Half done" in (await client.get(f"/actions/{action_id}")).text


async def test_owner_cannot_reassign_or_move_the_due_date(client, cast):
    action_id = await make_action(cast)
    await sign_in(client, cast.member)
    before = await _snapshot()
    response = await post_form(
        client,
        f"/actions/{action_id}/owners",
        {"owner_ids": [str(cast.member)], "due_on": _day(60)},
    )
    assert response.status_code == 403
    assert await _snapshot() == before


async def test_chair_reassigns_and_moves_the_due_date(client, cast):
    action_id = await make_action(cast)
    await sign_in(client, cast.chair)
    before = await _snapshot()
    response = await post_form(
        client,
        f"/actions/{action_id}/owners",
        {"owner_ids": [str(cast.member2)], "due_on": _day(-2)},
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "due_on") == "The due date cannot be in the past."
    response = await post_form(client, f"/actions/{action_id}/owners", {"due_on": _day(5)})
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "owner_ids") == "Choose at least one owner."
    assert await _snapshot() == before
    response = await post_form(
        client,
        f"/actions/{action_id}/owners",
        {"owner_ids": [str(cast.member2)], "due_on": _day(45)},
    )
    assert response.status_code == 302
    action = await queries.get_action(action_id, await viewer_for(cast.chair))
    assert action.owner_ids == [cast.member2]
    assert action.due_on == organisation_today() + dt.timedelta(days=45)


@pytest.mark.parametrize("owner", ["not a number", "<b>3</b>", "x" * 1000])
async def test_reassigning_to_an_owner_that_is_not_an_id_is_refused(client, cast, owner):
    """Found by tests/test_form_fuzz.py: an owner the form cannot read answered 500."""
    action_id = await make_action(cast)
    await sign_in(client, cast.chair)
    before = await _snapshot()
    response = await post_form(
        client, f"/actions/{action_id}/owners", {"owner_ids": [owner], "due_on": _day(9)}
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "owner_ids") == "Owners: choose from the list."
    assert await _snapshot() == before


# --- CSV --------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="actions-')
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_csv_export_of_the_readable_actions(client, cast):
    ids = await _one_of_each(cast)
    formula = await make_action(cast, "=HYPERLINK(1)", owners=[cast.member, cast.member2])
    await services.update_status(
        ids["public"], StatusChange(status="done", note=""), await viewer_for(cast.chair)
    )
    meeting_id = await make_meeting(cast.slug, cast.chair)
    from_meeting = await make_action(
        cast, "+FROM-MEETING", source_type="meeting", source_id=meeting_id
    )
    await sign_in(client, cast.director)
    rows = _csv(await client.get(f"/groups/{cast.slug}/actions.csv"))
    assert rows[0] == ["title", "status", "owners", "due", "completed (UTC)", "source"]
    by_title = {row[0]: row for row in rows[1:]}
    assert set(by_title) == {"PUBLIC-ACTION", "INTERNAL-ACTION", "'=HYPERLINK(1)", "'+FROM-MEETING"}
    assert by_title["'=HYPERLINK(1)"][2] == "Member One; Member Two"
    assert by_title["PUBLIC-ACTION"][1] == "done" and by_title["PUBLIC-ACTION"][4].endswith("Z")
    assert by_title["INTERNAL-ACTION"][3] == _day(14) and by_title["INTERNAL-ACTION"][4] == ""
    assert by_title["INTERNAL-ACTION"][5] == "group"
    assert by_title["'+FROM-MEETING"][5] == f"meeting {meeting_id}"
    assert formula and from_meeting
    client.cookies.clear()
    await sign_in(client, cast.board)
    titles = {row[0] for row in _csv(await client.get(f"/groups/{cast.slug}/actions.csv"))[1:]}
    assert "BOARD-ACTION" in titles and "GROUP-ACTION" not in titles
    rows = _csv(await client.get(f"/groups/{cast.slug}/actions.csv?status=done"))
    assert [row[0] for row in rows[1:]] == ["PUBLIC-ACTION"]
    assert (await client.get(f"/groups/{cast.slug}/actions.csv?status=x")).status_code == 422


async def test_csv_guards_names_that_look_like_formulas(client, cast):
    sly = await make_user("sly@example.org", "@SUM(A1)")
    await make_membership(sly, cast.group_id, "member")
    await make_action(cast, "Plain", owners=[sly])
    await sign_in(client, cast.chair)
    rows = _csv(await client.get(f"/groups/{cast.slug}/actions.csv"))
    assert rows[1][2] == "'@SUM(A1)"


# --- queries ----------------------------------------------------------------------------


async def _grow(cast, count: int) -> None:
    for number in range(count):
        owners = [cast.member] if number % 2 else [cast.member, cast.member2]
        action_id = await make_action(
            cast, f"Action {number}", owners=owners, visibility=("internal", "board")[number % 2]
        )
        if number % 3 == 0:
            await make_overdue(action_id)


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("member", "/actions"),
        ("chair", "/actions"),
        ("member", "/groups/wellbeing/actions"),
        ("director", "/groups/wellbeing/actions"),
        ("board", "/groups/wellbeing/actions?status=open"),
        ("chair", "/groups/wellbeing/actions.csv"),
    ],
)
async def test_action_lists_cost_a_fixed_number_of_queries(client, cast, count_queries, who, url):
    await sign_in(client, getattr(cast, who))
    counts = []
    for total in (3, 30):
        await ActionItem.delete(force=True)
        await _grow(cast, total)
        with count_queries() as counter:
            response = await client.get(url)
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    # 10, and the navigation's "needs me" count read afresh (notifications/needs_me.py).
    assert counts[0] <= 20, counts


async def test_action_page_costs_a_fixed_number_of_queries(client, cast, count_queries):
    small = await make_action(cast)
    large = await make_action(cast, owners=[cast.member, cast.member2, cast.secretary])
    chair = await viewer_for(cast.chair)
    for number in range(20):
        await services.add_progress(large, ProgressNote(body=f"Note {number}"), chair)
    await sign_in(client, cast.chair)
    counts = []
    for action_id in (small, large):
        with count_queries() as counter:
            response = await client.get(f"/actions/{action_id}")
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    # 10, and the navigation's "needs me" count read afresh (notifications/needs_me.py).
    assert counts[0] <= 20, counts
