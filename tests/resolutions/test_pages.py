"""Written resolutions through the pages and the API: proposing with every error at once,
voting from the page and from the signed link, the decision register, the next meeting's
minutes, "needs me", and what each reader may see (the Director never a Board-only
resolution, by any route)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.core.clock import utcnow
from governance.core.tables import OutboundEmail
from governance.notifications.needs_me import tasks_for
from governance.resolutions import notices
from governance.resolutions.services import sweep_resolutions
from governance.resolutions.tables import ResolutionVote, WrittenResolution
from tests.factories import make_meeting, viewer_for
from tests.helpers import post_form, shown_after_refusal, sign_in
from tests.resolutions.conftest import move_close, propose, status_of, vote

PROBLEM = "application/problem+json"
SECRET = "Concern about the Director"


def _local(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
async def tokens(cast) -> dict[str, dict[str, str]]:
    people = ("chair", "member", "member2", "director", "board", "stranger")
    return {
        who: {"Authorization": f"Bearer {await issue_api_token(f'{who}@example.org')}"}
        for who in people
    }


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()  # type: ignore[no-any-return]


# --- pages ------------------------------------------------------------------------------


async def test_the_chair_proposes_from_the_page(client, cast):
    await sign_in(client, cast.chair)
    form = {
        "title": "Adopt the survey",
        "text": "That the group adopts the survey.",
        "closes_at": _local(utcnow() + dt.timedelta(days=3)),
        "visibility": "internal",
    }
    response = await post_form(client, f"/groups/{cast.slug}/resolutions/new", form)
    assert response.status_code == 302, response.text
    page = await client.get(response.headers["location"])
    assert "Adopt the survey" in page.text and "Open for votes" in page.text


async def test_a_bad_proposal_shows_every_error(client, cast):
    await sign_in(client, cast.chair)
    form = {"title": "", "text": "", "closes_at": "soon", "visibility": "internal"}
    response = await post_form(client, f"/groups/{cast.slug}/resolutions/new", form)
    assert response.status_code == 422
    for name in ("title-error", "text-error", "closes_at-error"):
        assert f'id="{name}"' in response.text, name
    assert await WrittenResolution.count() == 0


async def test_a_member_votes_from_the_page_and_a_second_vote_is_refused(client, cast):
    resolution = await propose(cast)
    await sign_in(client, cast.member)
    url = f"/resolutions/{resolution}/vote"
    response = await post_form(client, url, {"choice": "for", "comment": "Yes"})
    assert response.status_code == 302
    again = await post_form(client, url, {"choice": "against"})
    again = await shown_after_refusal(client, again)
    assert await ResolutionVote.count() == 1


async def test_a_vote_from_the_email_link_needs_no_sign_in(client, cast):
    resolution = await propose(cast)
    link = notices.vote_links(resolution, cast.member2)["against"]
    path = link.split("://", 1)[1].split("/", 1)[1]
    asked = await client.get("/" + path)
    assert asked.status_code == 200 and 'value="against" checked' in asked.text
    assert await ResolutionVote.count() == 0  # opening the link records nothing
    token = path.split("/")[1].split("?")[0]
    done = await post_form(client, f"/resolution-votes/{token}", {"choice": "against"})
    assert done.status_code == 200 and 'id="vote-recorded"' in done.text
    bad = await post_form(client, "/resolution-votes/not-a-link", {"choice": "for"})
    assert bad.status_code == 404


# --- API --------------------------------------------------------------------------------


async def test_the_api_proposes_votes_and_refuses_with_problems(client, cast, tokens):
    closes = (utcnow() + dt.timedelta(days=2)).isoformat()
    body = {"title": "Adopt", "text": "That we adopt.", "closes_at": closes}
    created = await client.post(
        f"/api/v1/groups/{cast.slug}/resolutions", json=body, headers=tokens["chair"]
    )
    assert created.status_code == 201, created.text
    resolution = created.json()["id"]
    votes = f"/api/v1/resolutions/{resolution}/votes"
    cast_vote = await client.post(votes, json={"choice": "for"}, headers=tokens["member"])
    assert cast_vote.status_code == 201 and cast_vote.json()["my_vote"] == "for"
    assert_problem(await client.post(votes, json={"choice": "for"}, headers=tokens["member"]), 409)
    assert_problem(await client.post(votes, json={"choice": "x"}, headers=tokens["member2"]), 422)
    assert_problem(
        await client.post(votes, json={"choice": "for"}, headers=tokens["director"]), 403
    )
    assert_problem(
        await client.post(votes, json={"choice": "for"}, headers=tokens["stranger"]), 404
    )
    refused = await client.post(
        f"/api/v1/groups/{cast.slug}/resolutions", json=body, headers=tokens["member"]
    )
    assert_problem(refused, 403)
    withdrawn = await client.post(
        f"/api/v1/resolutions/{resolution}/withdraw", headers=tokens["chair"]
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


# --- the record: the register and the next meeting's minutes ----------------------------


async def test_a_decided_resolution_is_in_the_register_and_the_next_minutes(client, cast):
    earlier = await make_meeting(
        cast.slug, cast.chair, title="October meeting", starts_at=utcnow() - dt.timedelta(days=5)
    )
    resolution = await propose(cast, title="Adopt the survey")
    for user in (cast.chair, cast.secretary, cast.member):
        await vote(resolution, user, "for")
    await move_close(resolution, utcnow() - dt.timedelta(minutes=1))
    await sweep_resolutions()
    assert await status_of(resolution) == "carried"
    following = await make_meeting(cast.slug, cast.chair, title="December meeting")
    await sign_in(client, cast.member)
    register = await client.get(f"/groups/{cast.slug}/decisions")
    assert "Adopt the survey" in register.text and "Written resolution" in register.text
    minutes = await client.get(f"/meetings/{following}")
    assert "Decisions taken since the last meeting" in minutes.text
    assert "Adopt the survey" in minutes.text
    printable = await client.get(f"/meetings/{following}/export/minutes")
    assert "Decisions taken since the last meeting" in printable.text
    assert "Adopt the survey" in printable.text
    before = await client.get(f"/meetings/{earlier}")
    assert "Decisions taken since the last meeting" not in before.text


async def test_needs_me_lists_resolutions_awaiting_my_vote(cast):
    resolution = await propose(cast, title="Adopt the survey")
    tasks = await tasks_for(await viewer_for(cast.member))
    assert [t.title for t in tasks if t.kind == "resolution_to_vote"] == ["Adopt the survey"]
    await vote(resolution, cast.member, "for")
    tasks = await tasks_for(await viewer_for(cast.member))
    assert not [t for t in tasks if t.kind == "resolution_to_vote"]
    director_tasks = await tasks_for(await viewer_for(cast.director))
    assert not [t for t in director_tasks if t.kind == "resolution_to_vote"]


# --- visibility -------------------------------------------------------------------------


async def _decided_board_only(cast) -> tuple[int, int]:
    """A Board-only resolution, carried before the next meeting; and that meeting."""
    await make_meeting(cast.slug, cast.chair, starts_at=utcnow() - dt.timedelta(days=5))
    resolution = await propose(cast, visibility="board", title=SECRET)
    for user in (cast.chair, cast.secretary, cast.member, cast.member2):
        await vote(resolution, user, "for")
    meeting = await make_meeting(cast.slug, cast.chair, title="Next meeting")
    return resolution, meeting


async def test_the_director_never_sees_a_board_only_resolution(client, cast, tokens):
    resolution, meeting = await _decided_board_only(cast)
    await sign_in(client, cast.director)
    pages = (
        f"/groups/{cast.slug}/resolutions",
        f"/groups/{cast.slug}/decisions",
        "/decisions",
        f"/meetings/{meeting}",
        "/me/tasks",
        "/",
    )
    for page in pages:
        response = await client.get(page)
        assert response.status_code == 200, page
        assert SECRET not in response.text, page
    assert (await client.get(f"/resolutions/{resolution}")).status_code == 404
    missing = await client.get("/resolutions/999999")
    assert missing.status_code == 404
    api = await client.get(f"/api/v1/resolutions/{resolution}", headers=tokens["director"])
    assert_problem(api, 404)
    listing = await client.get(
        f"/api/v1/groups/{cast.slug}/resolutions", headers=tokens["director"]
    )
    assert listing.json()["resolutions"] == []
    register = await client.get(f"/api/v1/groups/{cast.slug}/decisions", headers=tokens["director"])
    assert SECRET not in register.text
    to_director = await OutboundEmail.count().where(
        (OutboundEmail.recipient == "director@example.org")
        & OutboundEmail.template.like("resolution%")
    )
    assert to_director == 0


async def test_the_board_reads_a_board_only_resolution(client, cast):
    resolution, meeting = await _decided_board_only(cast)
    await sign_in(client, cast.board)
    assert SECRET in (await client.get(f"/resolutions/{resolution}")).text
    assert SECRET in (await client.get(f"/meetings/{meeting}")).text
    assert SECRET in (await client.get(f"/groups/{cast.slug}/decisions")).text


async def test_a_group_only_resolution_stays_in_the_group(client, cast):
    resolution = await propose(cast, visibility="group", title="Group matter")
    for who in (cast.board, cast.director):
        await sign_in(client, who)
        assert (await client.get(f"/resolutions/{resolution}")).status_code == 404
    await sign_in(client, cast.member)
    assert "Group matter" in (await client.get(f"/resolutions/{resolution}")).text
