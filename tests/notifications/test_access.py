"""Who may use the notification routes: the outbox page for admins only, email choices for
the signed-in user or the holder of a signed link, one-click unsubscribe with no cookie."""

from __future__ import annotations

import pytest

from governance.core.tables import OutboundEmail
from governance.notifications.links import preferences_url, unsubscribe_url
from tests.factories import make_user
from tests.helpers import found, post_form, shown_after_refusal, sign_in
from tests.notifications.conftest import START, People, make_action, sweep

PERSONAS = ("anonymous", "member", "director", "board", "admin")


async def _persona_ids(people: People) -> dict[str, int]:
    admin = await make_user("admin@example.org", "The Admin", admin=True)
    return {
        "member": people.member,
        "director": people.director,
        "board": people.board,
        "admin": admin,
    }


async def _request(client, users, persona: str, method: str, url: str):
    client.cookies.clear()
    if persona != "anonymous":
        await sign_in(client, users[persona])
    if method == "GET":
        return await client.get(url)
    return await post_form(client, url, {})


async def _parked_email(people: People) -> int:
    await make_action(people.group_id, [people.member], START.date())
    await sweep()
    await OutboundEmail.update({OutboundEmail.status: "parked"}).where(OutboundEmail.id > 0)
    return int(found(await OutboundEmail.select(OutboundEmail.id).first())["id"])


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_outbox_page_and_retry_are_for_admins_only(clock, people: People, client, method):
    users = await _persona_ids(people)
    email_id = await _parked_email(people)
    url = "/admin/outbox" if method == "GET" else f"/admin/outbox/{email_id}/retry"
    for persona in PERSONAS:
        response = await _request(client, users, persona, method, url)
        if persona == "anonymous":
            assert response.status_code == 302, persona
            assert response.headers["location"].startswith("/login?next=")
        elif persona == "admin":
            assert response.status_code in (200, 302, 303), persona
        else:
            assert response.status_code == 403, persona
            assert found(await OutboundEmail.select().first())["status"] == "parked"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_my_email_choices_need_a_sign_in(clock, people: People, client, method):
    users = await _persona_ids(people)
    for persona in PERSONAS:
        response = await _request(client, users, persona, method, "/email/preferences")
        if persona == "anonymous":
            assert response.status_code == 302
            assert response.headers["location"].startswith("/login?next=")
        else:
            # An empty form is refused with its errors: the request reached the handler, and
            # answered with a redirect to the form's page (Post/Redirect/Get).
            assert response.status_code == (200 if method == "GET" else 303), persona


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_signed_links_work_for_anyone_holding_them(clock, people: People, client, method):
    users = await _persona_ids(people)
    choices = preferences_url(people.member).removeprefix("http://testserver")
    stop = unsubscribe_url(people.member, "meetings").removeprefix("http://testserver")
    for persona in PERSONAS:
        response = await _request(client, users, persona, method, choices)
        if method == "POST" and persona != "anonymous":
            # Refused with a redirect to the form's page, which a session keeps the refusal
            # for; without a session it is shown where it was posted.
            response = await shown_after_refusal(client, response)
        assert response.status_code == (200 if method == "GET" or persona != "anonymous" else 422)
        assert "member@example.org" in response.text
        response = await _request(client, users, persona, method, stop)
        assert response.status_code == 200, persona
