"""Through the outbox: SMTP down means mail waits and goes once when the server is back; a
permanent failure is parked, shown on /admin/outbox and can be retried."""

from __future__ import annotations

import datetime as dt
import re

from governance.core.tables import OutboundEmail
from tests.factories import make_user
from tests.helpers import csrf_token, found, post_form, sign_in
from tests.notifications.conftest import START, Mail, People, make_action, sweep


async def test_smtp_down_mail_waits_then_goes_once(clock, people: People, mail: Mail):
    for owner in (people.member, people.member2, people.chair):
        await make_action(people.group_id, [owner], START.date())
    assert len(await sweep()) == 3

    mail.server_down()
    assert (await mail.deliver()).retrying == 3
    clock.shift(dt.timedelta(seconds=30))
    assert (await mail.deliver()).retrying == 0  # the next try is a minute after the first
    clock.shift(dt.timedelta(seconds=31))
    assert (await mail.deliver()).retrying == 3
    rows = await OutboundEmail.select()
    assert {(row["status"], row["attempts"]) for row in rows} == {("queued", 2)}
    assert all(row["last_error"] for row in rows)

    mail.server_up()
    assert (await mail.deliver()).sent == 0  # the server is back, but the retry is not due
    assert mail.messages == []
    clock.shift(dt.timedelta(minutes=2, seconds=1))
    assert (await mail.deliver()).sent == 3
    for _ in range(3):
        clock.shift(dt.timedelta(hours=1))
        await sweep()
        assert (await mail.deliver()).sent == 0

    assert sorted(str(m["To"]) for m in mail.messages) == [
        "chair@example.org",
        "member2@example.org",
        "member@example.org",
    ]
    assert {row["status"] for row in await OutboundEmail.select()} == {"sent"}


async def test_a_permanent_failure_is_parked_shown_to_admins_and_can_be_retried(
    clock, people: People, mail: Mail, client
):
    await make_action(people.group_id, [people.member], START.date(), title="Secret title")
    await sweep()
    mail.sink.fail_with("550 5.1.1 mailbox unavailable")
    report = await mail.deliver()
    assert report.parked == 1
    [row] = await OutboundEmail.select()
    assert row["status"] == "parked"
    assert "550" in row["last_error"]

    # Not for members, nor anyone signed out.
    assert (await client.get("/admin/outbox")).status_code in (302, 303, 401)
    await sign_in(client, people.member)
    assert (await client.get("/admin/outbox")).status_code == 403
    assert (await post_form(client, f"/admin/outbox/{row['id']}/retry")).status_code == 403

    admin = await make_user("admin@example.org", "The Admin", admin=True)
    await sign_in(client, admin)
    page = await client.get("/admin/outbox")
    assert page.status_code == 200
    assert "member@example.org" in page.text
    assert "550 5.1.1 mailbox unavailable" in page.text
    assert f'action="/admin/outbox/{row["id"]}/retry"' in page.text
    assert "Secret title" not in page.text  # an admin sees no content

    # The retry button needs its CSRF token.
    refused = await client.post(f"/admin/outbox/{row['id']}/retry", data={})
    assert refused.status_code == 403
    assert found(await OutboundEmail.select().first())["status"] == "parked"

    mail.sink.fail_with(None)
    response = await post_form(client, f"/admin/outbox/{row['id']}/retry")
    assert response.status_code in (302, 303)
    assert found(await OutboundEmail.select().first())["status"] == "queued"
    assert (await mail.deliver()).sent == 1
    assert len(mail.to("member@example.org")) == 1
    page = await client.get("/admin/outbox")
    assert "Nothing is parked." in page.text

    # Retrying what is not parked is a clear 404, not a 500.
    again = await post_form(client, f"/admin/outbox/{row['id']}/retry")
    assert again.status_code == 404


async def test_waiting_mail_is_listed_with_its_next_attempt(
    clock, people: People, mail: Mail, client
):
    await make_action(people.group_id, [people.member], START.date())
    await sweep()
    mail.server_down()
    await mail.deliver()
    admin = await make_user("admin@example.org", "The Admin", admin=True)
    await sign_in(client, admin)
    await csrf_token(client, "/admin/outbox")
    page = await client.get("/admin/outbox")
    assert re.search(r"Action reminder</td>\s*<td>1</td>", page.text)
