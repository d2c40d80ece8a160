"""Every account form reports all of its fields' errors in one round, and a refused form
changes nothing."""

from __future__ import annotations

from html import unescape

import httpx

from governance.accounts import services
from governance.accounts.tables import User
from tests.accounts.support import counts
from tests.factories import make_user
from tests.helpers import field_error, post_form, shown_after_refusal, sign_in


def errors_of(html: str, *names: str) -> dict[str, str | None]:
    """Each field's error as the person reads it (the page escapes quotes)."""
    errors = {name: field_error(html, name) for name in names}
    return {name: error and unescape(error) for name, error in errors.items()}


async def test_invitation_reports_every_field(client: httpx.AsyncClient) -> None:
    await make_user(email="taken@example.org")
    await sign_in(client, await make_user(admin=True))
    before = await counts()

    response = await post_form(
        client, "/admin/users/invite", {"email": "not-an-email", "display_name": ""}
    )
    response = await shown_after_refusal(client, response)
    assert errors_of(response.text, "email", "display_name") == {
        "email": "Email must be an email address such as name@example.org.",
        "display_name": "Name is required.",
    }

    # A rule that reads the database comes in the same round.
    response = await post_form(
        client, "/admin/users/invite", {"email": "Taken@Example.org", "display_name": "x" * 201}
    )
    response = await shown_after_refusal(client, response)
    assert errors_of(response.text, "email", "display_name") == {
        "email": "An account with this email already exists.",
        "display_name": "Name must be at most 200 characters.",
    }
    assert await counts() == before


async def test_profile_reports_every_field(client: httpx.AsyncClient) -> None:
    user_id = await make_user(name="Ria")
    await sign_in(client, user_id)
    response = await post_form(
        client,
        "/profile",
        {
            "display_name": "",
            "timezone": "Mars/Olympus",
            "digest_frequency": "hourly",
            "digest_weekday": "someday",
        },
    )
    response = await shown_after_refusal(client, response)
    assert errors_of(
        response.text, "display_name", "timezone", "digest_frequency", "digest_weekday"
    ) == {
        "display_name": "Name is required.",
        "timezone": "Time zone must be a time zone such as Europe/London.",
        "digest_frequency": "Choose one of: daily, weekly, off.",
        "digest_weekday": (
            "Choose one of: monday, tuesday, wednesday, thursday, friday, saturday, sunday."
        ),
    }
    # A zone is chosen from a list of IANA zones: the refused one is not offered back.
    assert '<select id="timezone"' in response.text
    assert 'value="Mars/Olympus"' not in response.text
    assert '<option value="" selected>Choose a time zone</option>' in response.text
    row = await User.select(User.display_name, User.timezone).where(User.id == user_id).first()
    assert row == {"display_name": "Ria", "timezone": "Europe/London"}


async def test_own_admin_role_is_reported_with_the_other_fields(
    client: httpx.AsyncClient,
) -> None:
    admin_id = await make_user(admin=True, name="Admin")
    await sign_in(client, admin_id)
    before = await counts()
    response = await post_form(client, f"/admin/users/{admin_id}", {"display_name": " "})
    response = await shown_after_refusal(client, response)
    assert errors_of(response.text, "display_name") == {"display_name": "Name is required."}
    assert "Ask another administrator to remove it." in response.text
    assert "You cannot remove your own administrator role." in response.text
    assert await counts() == before


async def test_sign_in_and_reset_forms_report_every_field(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/login", {"email": "nobody", "password": ""})
    assert response.status_code == 422
    assert errors_of(response.text, "email", "password") == {
        "email": "Email must be an email address such as name@example.org.",
        "password": "Password is required.",
    }
    response = await post_form(client, "/account/forgot-password", {"email": "x" * 321})
    assert response.status_code == 422
    assert errors_of(response.text, "email") == {"email": "Email must be at most 320 characters."}


async def test_a_new_password_is_checked_only_through_a_valid_link(
    client: httpx.AsyncClient,
) -> None:
    user_id = await make_user(password_hash="")
    link = services.password_link(user_id, "", "invitation").removeprefix("http://testserver")
    short = await post_form(client, link, {"password": "short", "password_confirm": "short"})
    assert short.status_code == 422
    assert errors_of(short.text, "password") == {
        "password": "Password must be at least 12 characters."
    }
    # Someone holding a link that is not valid learns nothing about the password rules.
    forged = await post_form(
        client, "/account/set-password/forged", {"password": "short", "password_confirm": ""}
    )
    assert forged.status_code == 404
    assert "This link is no longer valid" in forged.text
