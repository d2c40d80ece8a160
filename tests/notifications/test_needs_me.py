""" "Needs me" against the access world (tests/access_world.py) with one item of each kind:
each persona's list, the rows going once done, the same list as the digest's first section
and the API's, nothing a persona may not read, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json
import re

import httpx
import pytest

from governance.accounts.tables import User
from governance.actions.schemas import ActionPatch
from governance.actions.services import patch_action
from governance.actions.tables import ActionItem
from governance.core.clock import organisation_today, utcnow
from governance.core.tables import OutboundEmail
from governance.groups.tables import ReportingLineSettings, WorkingGroup
from governance.meetings.schemas import NewComment
from governance.meetings.services import comment_on_minutes
from governance.notifications.digests import run_digests
from governance.notifications.needs_me import forget_recent_tasks, tasks_for
from governance.reports.schemas import LineResponse
from governance.reports.services import acknowledge_delivery, respond_to_delivery
from governance.resolutions.schemas import NewVote
from governance.resolutions.services import cast_vote
from governance.transparency import services as transparency
from tests.access_world import SECRETS, World, build_world
from tests.factories import make_user, viewer_for
from tests.helpers import QueryCounter, found, sign_in

PERSONAS = ("admin", "director", "board", "chair", "member")


async def _world_with_every_kind() -> World:
    """The access world, and what it lacks for each kind: an action of the member past its
    due date and one due soon, and a group old enough to owe a periodic report."""
    world = await build_world()
    today = organisation_today()
    await ActionItem.update({ActionItem.due_on: today - dt.timedelta(days=2)}).where(
        ActionItem.id == int(world.params["action_id"])
    )
    await ActionItem.update({ActionItem.due_on: today + dt.timedelta(days=3)}).where(
        ActionItem.id == int(world.params["board_action_id"])
    )
    long_ago = utcnow() - dt.timedelta(days=400)
    await WorkingGroup.update({WorkingGroup.created_at: long_ago}).where(
        WorkingGroup.slug == "alpha"
    )
    await ReportingLineSettings.update({ReportingLineSettings.made_at: long_ago}).where(
        ReportingLineSettings.id > 0
    )
    return world


async def _kinds(world: World, persona: str) -> list[str]:
    viewer = await viewer_for(world.users[persona])
    return sorted({task.kind for task in await tasks_for(viewer)})


async def test_each_persona_sees_what_waits_for_them() -> None:
    world = await _world_with_every_kind()
    assert await _kinds(world, "admin") == []
    assert await _kinds(world, "director") == ["delivery_to_acknowledge"]
    # The access world's Board line holds another member's proposed response.
    assert await _kinds(world, "board") == ["delivery_to_acknowledge", "proposal_to_concur"]
    assert await _kinds(world, "member") == [
        "action_due_soon",
        "action_overdue",
        "minutes_to_comment",
        "resolution_to_vote",
    ]
    assert await _kinds(world, "chair") == [
        "minutes_to_comment",
        "report_owed",
        "resolution_to_vote",
        "transparency_to_approve",
        "transparency_to_publish",
    ]
    board = await tasks_for(await viewer_for(world.users["board"]))
    assert {task.title for task in board} == {"Flexitime recommendation", "Independence channel"}


async def test_the_list_is_oldest_first_and_links_where_it_is_done() -> None:
    world = await _world_with_every_kind()
    for persona in PERSONAS:
        tasks = await tasks_for(await viewer_for(world.users[persona]))
        assert [task.on for task in tasks] == sorted(task.on for task in tasks)
        assert all(task.link.startswith("/") for task in tasks)
    member = await tasks_for(await viewer_for(world.users["member"]))
    assert member[0].link == f"/actions/{world.params['action_id']}"


async def test_nothing_a_persona_may_not_read() -> None:
    world = await _world_with_every_kind()
    for persona, secrets in SECRETS.items():
        if persona not in world.users:
            continue
        tasks = await tasks_for(await viewer_for(world.users[persona]))
        text = " ".join(f"{task.title} {task.detail}" for task in tasks)
        assert not [secret for secret in secrets if secret in text], persona


async def test_rows_disappear_when_done() -> None:
    world = await _world_with_every_kind()
    member = await viewer_for(world.users["member"])
    circulated = int(world.params["circulated_meeting_id"])
    await comment_on_minutes(circulated, NewComment(body="Looks right."), member)
    await patch_action(int(world.params["action_id"]), ActionPatch(status="done"), member)
    for key in ("resolution_id", "board_resolution_id", "group_resolution_id"):
        await cast_vote(int(world.params[key]), NewVote(choice="for"), member)
    assert await _kinds(world, "member") == ["action_due_soon"]

    director = await viewer_for(world.users["director"])
    delivery = int(world.params["director_delivery_id"])
    await acknowledge_delivery(delivery, director)
    assert await _kinds(world, "director") == ["delivery_to_answer"]
    await respond_to_delivery(delivery, LineResponse(response="noted"), director)
    assert await _kinds(world, "director") == []

    chair = await viewer_for(world.users["chair"])
    await transparency.approve_report(int(world.params["tr_board_draft_id"]), chair)
    await transparency.publish_report(int(world.params["tr_board_approved_id"]), chair)
    kinds = await _kinds(world, "chair")
    assert "transparency_to_approve" not in kinds
    # The one just approved now waits to be published.
    assert "transparency_to_publish" in kinds


async def test_the_digest_starts_with_the_same_list() -> None:
    world = await _world_with_every_kind()
    ids = [world.users[persona] for persona in PERSONAS]
    await User.update({User.digest_frequency: "daily", User.timezone: "Europe/London"}).where(
        User.id.is_in(ids)
    )
    await OutboundEmail.delete().where(OutboundEmail.id > 0)
    now = dt.datetime.combine(organisation_today(), dt.time(12, 0), tzinfo=dt.UTC)
    await run_digests(now)
    for persona in PERSONAS:
        viewer = await viewer_for(world.users[persona])
        page = await tasks_for(viewer)
        email = (
            await OutboundEmail.select(OutboundEmail.context)
            .where(
                (OutboundEmail.template == "digest")
                & (OutboundEmail.recipient == viewer.user.email)
            )
            .first()
        )
        context = {} if email is None else email["context"]
        context = json.loads(context) if isinstance(context, str) else context
        if not page:
            assert not context or not context["tasks"]["items"], persona
            continue
        items = context["tasks"]["items"]
        assert [(i["title"], i["link"]) for i in items] == [
            (task.title, "http://testserver" + task.link) for task in page
        ], persona


async def test_the_page_the_api_and_the_navigation_agree(client: httpx.AsyncClient) -> None:
    world = await _world_with_every_kind()
    for persona in PERSONAS:
        viewer = await viewer_for(world.users[persona])
        expected = await tasks_for(viewer)
        client.cookies.clear()
        await sign_in(client, viewer.user.id)
        api = (await client.get("/api/v1/me/tasks")).json()
        assert api["count"] == len(expected)
        assert [row["link"] for row in api["tasks"]] == [task.link for task in expected]
        html = (await client.get("/me/tasks")).text
        for task in expected:
            assert f'href="{task.link}"' in html
        dashboard = (await client.get("/")).text
        assert "Needs me" in dashboard
        if expected:
            assert f'{len(expected)}<span class="visually-hidden"> waiting</span>' in html


@pytest.mark.parametrize("persona", ["member", "chair", "director", "board"])
async def test_the_page_costs_the_same_queries_with_more_to_do(
    client: httpx.AsyncClient, count_queries: QueryCounter, persona: str
) -> None:
    world = await _world_with_every_kind()
    await sign_in(client, world.users[persona])
    await client.get("/me/tasks")
    # Counted as the page costs once anything has changed (nothing kept from before).
    forget_recent_tasks()
    with count_queries():
        assert (await client.get("/me/tasks")).status_code == 200
    before = count_queries.count
    # More of every kind: a second world's worth of rows in other groups, and more actions.
    await _more_of_everything(world)
    forget_recent_tasks()
    with count_queries():
        assert (await client.get("/me/tasks")).status_code == 200
    assert count_queries.count == before


def _navigation_count(html: str) -> int:
    found = re.search(r'(\d+)<span class="visually-hidden"> waiting</span>', html)
    return int(found.group(1)) if found else 0


async def test_the_navigation_count_follows_a_change_at_once(client: httpx.AsyncClient) -> None:
    """The count is kept between pages only while nothing has changed: five new actions
    of the reader's show on the very next page."""
    world = await _world_with_every_kind()
    await sign_in(client, world.users["member"])
    before = _navigation_count((await client.get("/")).text)
    assert _navigation_count((await client.get("/groups")).text) == before
    await _more_of_everything(world)
    assert _navigation_count((await client.get("/groups")).text) == before + 5


async def _more_of_everything(world: World) -> None:
    from governance.actions.schemas import NewAction
    from governance.actions.services import create_action

    chair = await viewer_for(world.users["chair"])
    group = found(
        await WorkingGroup.select(WorkingGroup.id).where(WorkingGroup.slug == "alpha").first()
    )
    for number in range(5):
        await create_action(
            group["id"],
            NewAction(
                title=f"More work {number}",
                due_on=organisation_today() + dt.timedelta(days=1),
                owner_ids=[world.users["member"], world.users["chair"]],
            ),
            chair,
        )
    await make_user(name="Someone new", board=True)


async def test_a_noticed_meeting_waits_for_each_members_reply() -> None:
    from governance.meetings.schemas import NoticeReply
    from governance.meetings.services import reply_to_notice, send_meeting_notice

    world = await _world_with_every_kind()
    chair = await viewer_for(world.users["chair"])
    scheduled = int(world.params["scheduled_meeting_id"])
    # No notice yet: nothing to reply to.
    assert "meeting_to_reply" not in await _kinds(world, "member")
    await send_meeting_notice(scheduled, chair)
    for persona in ("member", "chair"):
        tasks = await tasks_for(await viewer_for(world.users[persona]))
        replies = [task for task in tasks if task.kind == "meeting_to_reply"]
        assert [task.link for task in replies] == [f"/meetings/{scheduled}#notice-heading"]
        assert replies[0].title.startswith("Scheduled (")
    # Neither the Director nor the Board is the meeting's audience.
    for persona in ("director", "board", "admin"):
        assert "meeting_to_reply" not in await _kinds(world, persona)

    member = await viewer_for(world.users["member"])
    await reply_to_notice(scheduled, NoticeReply(mode="apologies"), member)
    assert "meeting_to_reply" not in await _kinds(world, "member")
    assert "meeting_to_reply" in await _kinds(world, "chair")


async def test_the_reply_waiting_is_in_the_digest_and_the_navigation(
    client: httpx.AsyncClient,
) -> None:
    from governance.meetings.services import send_meeting_notice

    world = await _world_with_every_kind()
    scheduled = int(world.params["scheduled_meeting_id"])
    await send_meeting_notice(scheduled, await viewer_for(world.users["chair"]))
    member = await viewer_for(world.users["member"])
    expected = await tasks_for(member)
    await sign_in(client, member.user.id)
    html = (await client.get("/me/tasks")).text
    assert f'href="/meetings/{scheduled}#notice-heading"' in html
    assert f'{len(expected)}<span class="visually-hidden"> waiting</span>' in html

    await User.update({User.digest_frequency: "daily", User.timezone: "Europe/London"}).where(
        User.id == member.user.id
    )
    await OutboundEmail.delete().where(OutboundEmail.id > 0)
    await run_digests(dt.datetime.combine(organisation_today(), dt.time(12, 0), tzinfo=dt.UTC))
    email = found(
        await OutboundEmail.select(OutboundEmail.context)
        .where(
            (OutboundEmail.template == "digest") & (OutboundEmail.recipient == member.user.email)
        )
        .first()
    )
    context = email["context"]
    context = json.loads(context) if isinstance(context, str) else context
    links = [item["link"] for item in context["tasks"]["items"]]
    assert f"http://testserver/meetings/{scheduled}#notice-heading" in links


async def test_one_readers_answers_leave_the_others_tasks_in_a_batch() -> None:
    """The digest asks for many readers at once: one member's comment, reply and votes are
    read with everybody's, and take away only that member's tasks."""
    from governance.meetings.schemas import NoticeReply
    from governance.meetings.services import reply_to_notice, send_meeting_notice
    from governance.notifications.needs_me import tasks_for_many

    world = await _world_with_every_kind()
    chair = await viewer_for(world.users["chair"])
    member = await viewer_for(world.users["member"])
    answered = {"minutes_to_comment", "meeting_to_reply", "resolution_to_vote"}
    await send_meeting_notice(int(world.params["scheduled_meeting_id"]), chair)
    before = await tasks_for_many([member, chair])
    for user_id in (member.user.id, chair.user.id):
        assert answered <= {task.kind for task in before[user_id]}, user_id

    await comment_on_minutes(
        int(world.params["circulated_meeting_id"]), NewComment(body="Agreed."), member
    )
    await reply_to_notice(
        int(world.params["scheduled_meeting_id"]), NoticeReply(mode="attending"), member
    )
    for key in ("resolution_id", "board_resolution_id", "group_resolution_id"):
        await cast_vote(int(world.params[key]), NewVote(choice="for"), member)
    after = await tasks_for_many([member, chair])
    assert not answered & {task.kind for task in after[member.user.id]}
    assert after[chair.user.id] == before[chair.user.id]
    assert after == {
        member.user.id: await tasks_for(member),
        chair.user.id: await tasks_for(chair),
    }
