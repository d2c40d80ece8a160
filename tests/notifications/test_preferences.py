"""Email choices: a signed link from every email, one-click unsubscribe, categories that can
be turned off and notices that cannot."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from governance.accounts.tables import User
from governance.core.audit import verify_chain
from governance.core.errors import InvalidInput
from governance.notifications import services
from governance.notifications.links import preferences_url, unsubscribe_url
from governance.notifications.queries import muted_categories
from governance.notifications.schemas import CATEGORIES, EmailChoices
from tests.helpers import csrf_token, found, sign_in
from tests.notifications.conftest import (
    START,
    Mail,
    People,
    make_action,
    make_delivered_report,
    sweep,
)


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


async def user_row(user_id: int) -> dict:
    return found(await User.select().where(User.id == user_id).first())


async def test_the_preferences_link_in_an_email_works_without_signing_in(
    clock, people: People, mail: Mail, client
):
    await make_action(people.group_id, [people.member], START.date())
    await sweep()
    await mail.deliver()
    text = mail.everything(mail.to("member@example.org")[0])
    link = found(re.search(r"http://testserver/email/preferences/\S+", text)).group(0)

    page = await client.get(path_of(link))
    assert page.status_code == 200
    assert "member@example.org" in page.text
    for label in ("Reminders about actions I own", "Reminders of meetings", "My membership"):
        assert label in page.text
    assert "Always sent" in page.text  # the notices that cannot be turned off

    token = await csrf_token(client, path_of(link))
    response = await client.post(
        path_of(link),
        data={
            "_csrf_token": token,
            "digest_frequency": "daily",
            "digest_weekday": "friday",
            "categories": ["meetings", "minutes"],
        },
    )
    assert response.status_code in (302, 303)
    row = await user_row(people.member)
    assert (row["digest_frequency"], row["digest_weekday"]) == ("daily", "friday")
    # Every category not chosen is off, the change notifications too.
    assert muted_categories(row["notification_categories"]) == set(CATEGORIES) - {
        "meetings",
        "minutes",
    }
    assert (await verify_chain()).intact

    # Turned off: no more action reminders for this member.
    await make_action(people.group_id, [people.member], START.date(), title="Another")
    assert await sweep() == []


async def test_bad_choices_change_nothing(clock, people: People, client):
    link = path_of(preferences_url(people.member))
    token = await csrf_token(client, link)
    response = await client.post(
        link,
        data={"_csrf_token": token, "digest_frequency": "hourly", "categories": ["nonsense"]},
    )
    assert response.status_code == 422
    assert "Choose one of: daily, weekly, off." in response.text
    row = await user_row(people.member)
    assert row["digest_frequency"] == "off"
    assert muted_categories(row["notification_categories"]) == frozenset()


async def test_every_bad_choice_is_reported_in_one_round(clock, people: People, client):
    """Frequency, weekday and categories all wrong: the page names each, beside its field,
    and saves nothing."""
    link = path_of(preferences_url(people.member))
    token = await csrf_token(client, link)
    response = await client.post(
        link,
        data={
            "_csrf_token": token,
            "digest_frequency": "hourly",
            "digest_weekday": "someday",
            "categories": ["actions", "nonsense"],
        },
    )
    assert response.status_code == 422
    assert "Some choices need correcting. Nothing has been saved." in response.text
    assert 'id="digest_frequency-error">Choose one of: daily, weekly, off.' in response.text
    weekdays = "monday, tuesday, wednesday, thursday, friday, saturday, sunday"
    assert f'id="digest_weekday-error">Choose one of: {weekdays}.' in response.text
    assert "Choose only from the categories listed." in response.text
    row = await user_row(people.member)
    assert (row["digest_frequency"], row["digest_weekday"]) == ("off", "monday")
    assert muted_categories(row["notification_categories"]) == frozenset()


async def test_the_service_finds_every_bad_choice_at_once(clock, people: People):
    choices = EmailChoices(
        digest_frequency="", digest_weekday="someday", categories=["meetings", "nonsense"]
    )
    with pytest.raises(InvalidInput) as refused:
        await services.save_email_choices(people.member, choices)
    assert refused.value.field_errors == {
        "digest_frequency": "Choose one of: daily, weekly, off.",
        "digest_weekday": "Choose one of: "
        "monday, tuesday, wednesday, thursday, friday, saturday, sunday.",
        "categories": "Choose only from the categories listed.",
    }
    assert (await user_row(people.member))["digest_frequency"] == "off"


async def test_a_tampered_or_foreign_link_opens_nothing(clock, people: People, client):
    link = path_of(preferences_url(people.member))
    assert (await client.get(link[:-3] + "abc")).status_code == 404
    assert (await client.get("/email/preferences/not-a-token")).status_code == 404
    # An unsubscribe token is not a preferences token, nor the other way round.
    unsubscribe = path_of(unsubscribe_url(people.member, "actions"))
    token = unsubscribe.rsplit("/", 1)[1]
    assert (await client.get(f"/email/preferences/{token}")).status_code == 404
    preference_token = link.rsplit("/", 1)[1]
    assert (await client.post(f"/email/unsubscribe/{preference_token}")).status_code == 404
    assert (await client.post(link, data={"digest_frequency": "daily"})).status_code == 403  # CSRF


async def test_signed_in_preferences_from_the_profile(clock, people: People, client):
    assert (await client.get("/email/preferences")).status_code in (302, 303, 401)
    await sign_in(client, people.chair)
    page = await client.get("/email/preferences")
    assert page.status_code == 200
    assert "chair@example.org" in page.text
    token = await csrf_token(client, "/email/preferences")
    response = await client.post(
        "/email/preferences",
        data={"_csrf_token": token, "digest_frequency": "weekly", "digest_weekday": "monday"},
    )
    assert response.status_code in (302, 303)
    row = await user_row(people.chair)
    assert row["digest_frequency"] == "weekly"
    # Nothing chosen: every category is off.
    assert muted_categories(row["notification_categories"]) == set(CATEGORIES)


async def test_one_click_unsubscribe_needs_no_cookie_and_no_csrf_token(
    clock, people: People, mail: Mail, client
):
    await make_action(people.group_id, [people.member], START.date())
    await sweep()
    await mail.deliver()
    message = mail.to("member@example.org")[0]
    url = str(message["List-Unsubscribe"]).strip("<>")

    # Opening the link only asks; a mail scanner following it turns nothing off.
    page = await client.get(path_of(url))
    assert page.status_code == 200
    assert "Stop these emails?" in page.text
    assert muted_categories((await user_row(people.member))["notification_categories"]) == set()

    # What a mail client sends for List-Unsubscribe-Post (RFC 8058): a bare POST.
    client.cookies.clear()
    response = await client.post(
        path_of(url),
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert "Unsubscribed" in response.text
    assert muted_categories((await user_row(people.member))["notification_categories"]) == {
        "actions"
    }
    # Twice is the same as once.
    assert (await client.post(path_of(url))).status_code == 200

    await make_action(people.group_id, [people.member], START.date(), title="Another")
    assert await sweep() == []


async def test_unsubscribing_from_the_digest_turns_it_off(clock, people: People, client):
    await User.update({User.digest_frequency: "daily"}).where(User.id == people.member)
    response = await client.post(path_of(unsubscribe_url(people.member, "digest")))
    assert response.status_code == 200
    assert (await user_row(people.member))["digest_frequency"] == "off"


async def test_a_delivery_awaiting_response_cannot_be_muted(clock, people: People, mail: Mail):
    everything = ["actions", "meetings", "minutes", "reports", "membership"]
    await User.update({User.notification_categories: everything}).where(
        User.id.is_in([people.director, people.chair])
    )
    await make_delivered_report(
        people.group_id,
        people.chair,
        lines=("director",),
        response_due_on=START.date() - dt.timedelta(days=1),
    )
    keys = await sweep()
    # The overdue week of a response due on 1 November (issue 10, defect 14: weekly).
    assert keys == [f"reminder:delivery:1:overdue:2026-W45:user:{people.director}"]
    await mail.deliver()
    [message] = mail.to("director@example.org")
    assert message["List-Unsubscribe"] is None
    text = mail.everything(message)
    assert "cannot be turned off" in text
    assert "http://testserver/email/preferences/" in text
