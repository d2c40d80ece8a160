"""Account administration: deactivation ends sessions at once; only admins may administer."""

from __future__ import annotations

import pytest

from governance.accounts.tables import User
from governance.core.tables import AuditEvent
from tests.accounts.support import (
    browser,
    counts,
    get_with_session,
    log_in,
    session_exists,
    sessions_of,
)
from tests.factories import PASSWORD, make_user
from tests.helpers import field_error, found, post_form, shown_after_refusal, sign_in


async def test_deactivation_ends_that_users_sessions_immediately(client, app):
    admin_id = await make_user(admin=True)
    target_id = await make_user(email="target@example.org")
    async with browser(app, address="198.51.100.30") as target_browser:
        target_token = await sign_in(target_browser, target_id)
        other_device = await sign_in(client, target_id)
        client.cookies.clear()
        assert (await target_browser.get("/profile")).status_code == 200
        await sign_in(client, admin_id)

        response = await post_form(client, f"/admin/users/{target_id}/deactivate")

        assert response.status_code == 302
        assert response.headers["location"] == f"/admin/users/{target_id}"
        assert await sessions_of(target_id) == 0
        assert not await session_exists(target_token)
        assert not await session_exists(other_device)
        next_request = await target_browser.get("/profile")
        assert next_request.status_code == 302
        assert next_request.headers["location"].startswith("/login")

    assert (await log_in(client, "target@example.org", PASSWORD)).status_code == 422
    row = found(await User.select(User.is_active).where(User.id == target_id).first())
    assert row["is_active"] is False
    events = await AuditEvent.select().where(AuditEvent.action == "user.deactivated")
    assert len(events) == 1
    assert events[0]["actor_id"] == admin_id
    assert events[0]["entity_id"] == str(target_id)
    assert await AuditEvent.count() == 1


async def test_reactivated_user_can_sign_in_again(client):
    admin_id = await make_user(admin=True)
    target_id = await make_user(email="target@example.org", active=False)
    await sign_in(client, admin_id)

    response = await post_form(client, f"/admin/users/{target_id}/reactivate")

    assert response.status_code == 302
    client.cookies.clear()
    assert (await log_in(client, "target@example.org", PASSWORD)).status_code == 302
    assert await AuditEvent.count().where(AuditEvent.action == "user.reactivated") == 1


async def test_admin_cannot_deactivate_themselves(client):
    admin_id = await make_user(admin=True)
    token = await sign_in(client, admin_id)
    before = await counts()

    response = await post_form(client, f"/admin/users/{admin_id}/deactivate")

    assert response.status_code == 302
    row = found(await User.select(User.is_active).where(User.id == admin_id).first())
    assert row["is_active"] is True
    assert await session_exists(token)
    assert await counts() == before


async def test_admin_edit_form_errors_change_nothing(client):
    admin_id = await make_user(admin=True, name="Admin")
    target_id = await make_user(name="Target")
    await sign_in(client, admin_id)
    before = await counts()

    blank = await post_form(client, f"/admin/users/{target_id}", {"display_name": ""})
    blank = await shown_after_refusal(client, blank)
    assert field_error(blank.text, "display_name") == "Name is required."
    own_role = await post_form(client, f"/admin/users/{admin_id}", {"display_name": "Admin"})
    own_role = await shown_after_refusal(client, own_role)
    assert await counts() == before
    row = found(await User.select(User.is_admin).where(User.id == admin_id).first())
    assert row["is_admin"] is True


async def test_admin_edit_changes_roles_with_one_audit_event(client):
    admin_id = await make_user(admin=True)
    target_id = await make_user(name="Target")
    await sign_in(client, admin_id)

    response = await post_form(
        client, f"/admin/users/{target_id}", {"display_name": "Target B", "is_director": "on"}
    )

    assert response.status_code == 302
    row = found(await User.select().where(User.id == target_id).first())
    assert (row["display_name"], row["is_director"], row["is_admin"]) == ("Target B", True, False)
    events = await AuditEvent.select().where(AuditEvent.action == "user.updated")
    assert len(events) == 1 and "director" in events[0]["summary"]
    assert await AuditEvent.count() == 1


@pytest.mark.parametrize("role", [{}, {"director": True}, {"board": True}])
async def test_non_admins_are_refused_account_administration(client, role):
    user_id = await make_user(**role)
    target_id = await make_user(name="Target")
    target_token = await sign_in(client, target_id)
    client.cookies.clear()
    await sign_in(client, user_id)
    before = await counts()

    for path in ("/admin/users", "/admin/users/invite", f"/admin/users/{target_id}"):
        response = await client.get(path)
        assert response.status_code == 403, path
        assert "Target" not in response.text
    deactivate = await post_form(client, f"/admin/users/{target_id}/deactivate")

    assert deactivate.status_code == 403
    assert await session_exists(target_token)
    assert await counts() == before


async def test_anonymous_visitor_is_sent_to_sign_in_from_admin_pages(client):
    response = await client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=/admin/users"


async def test_admin_sees_the_people_list(client):
    admin_id = await make_user(admin=True)
    await make_user(email="listed@example.org", name="Listed Person")
    await sign_in(client, admin_id)

    response = await client.get("/admin/users")

    assert response.status_code == 200
    assert "listed@example.org" in response.text
    assert "Listed Person" in response.text


async def test_stale_session_of_deactivated_user_is_removed_when_used(client):
    """Even a session that escaped deletion stops working once the account is inactive."""
    user_id = await make_user()
    token = await sign_in(client, user_id)
    await User.update({User.is_active: False}).where(User.id == user_id)

    response = await get_with_session(client, "/profile", token)

    assert response.status_code == 302
    assert not await session_exists(token)


@pytest.mark.parametrize(
    ("role", "status"),
    [({"board": True}, 200), ({"admin": True}, 200), ({"director": True}, 403), ({}, 403)],
)
async def test_audit_trail_page_is_for_the_board_and_admins(client, role, status):
    admin_id = await make_user(admin=True)
    await sign_in(client, admin_id)
    await post_form(client, "/admin/users/invite", {"email": "n@example.org", "display_name": "N"})
    client.cookies.clear()
    viewer_id = await make_user(**role)
    await sign_in(client, viewer_id)

    response = await client.get("/audit")

    assert response.status_code == status
    assert ("Invited n@example.org" in response.text) is (status == 200)


async def test_deactivation_ends_memberships_so_quorum_and_roster_follow(client):
    """Issue 10, defect 7: a deactivated account still counted towards quorum."""
    import datetime as dt

    from governance.core.clock import organisation_today, utcnow
    from governance.groups.tables import Membership
    from tests.factories import make_group, make_meeting, make_membership

    admin_id = await make_user(admin=True)
    chair_id = await make_user("chair@example.org", "Chair")
    leaving_id = await make_user("leaving@example.org", "Leaving Member")
    group_id = await make_group(slug="alpha", name="Alpha")
    long_ago = organisation_today() - dt.timedelta(days=100)
    await make_membership(chair_id, group_id, "chair", long_ago)
    await make_membership(
        leaving_id, group_id, "member", long_ago, organisation_today() + dt.timedelta(days=20)
    )
    # A second term not yet begun: it must never start.
    await make_membership(
        leaving_id, group_id, "secretary", organisation_today() + dt.timedelta(days=30)
    )
    meeting_id = await make_meeting("alpha", chair_id, starts_at=utcnow() + dt.timedelta(hours=2))

    async def quorum() -> dict:
        await sign_in(client, chair_id)
        return (await client.get(f"/api/v1/meetings/{meeting_id}")).json()["quorum"]

    assert (await quorum())["members"] == 2
    await sign_in(client, admin_id)
    assert (await post_form(client, f"/admin/users/{leaving_id}/deactivate")).status_code == 302

    assert (await quorum())["members"] == 1
    roster = (await client.get("/groups/alpha")).text
    assert "Leaving Member" not in roster.split("Former members")[0]
    terms = await Membership.select().where(Membership.user == leaving_id)
    yesterday = organisation_today() - dt.timedelta(days=1)
    assert sorted(t["ends_on"] for t in terms) == [
        yesterday,
        organisation_today() + dt.timedelta(days=29),
    ]
    [event] = await AuditEvent.select().where(AuditEvent.action == "user.deactivated")
    assert f"ended on {yesterday.isoformat()}" in event["summary"]
