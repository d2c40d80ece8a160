"""The administrator's forms for groups, memberships and reporting lines: a good form saves
and records one audit event; a bad one re-renders with each field's error and changes nothing."""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import Any

import httpx

from governance.core.clock import organisation_today
from governance.core.tables import AuditEvent
from governance.groups.services import seed_default_groups
from governance.groups.tables import Membership, ReportingLine, WorkingGroup
from tests.factories import make_group, make_membership, make_user
from tests.helpers import field_error, found, post_form, shown_after_refusal, sign_in


def today() -> dt.date:
    return organisation_today()


async def sign_in_admin(client: httpx.AsyncClient) -> int:
    admin_id = await make_user(name="Ada Admin", admin=True)
    await sign_in(client, admin_id)
    return admin_id


async def state() -> dict[str, Any]:
    return {
        "groups": await WorkingGroup.select().order_by(WorkingGroup.id),
        "memberships": await Membership.select().order_by(Membership.id),
        "lines": await ReportingLine.select().order_by(ReportingLine.id),
        "audit": await AuditEvent.count(),
    }


async def last_event() -> dict[str, Any]:
    return found(await AuditEvent.select().order_by(AuditEvent.sequence, ascending=False).first())


def group_form(**changes: str) -> dict[str, str]:
    return {
        "name": "Working Group on Climate",
        "slug": "climate",
        "mandate": "Looks at our **footprint**.",
        "quorum_rule": "majority",
        "quorum_count": "0",
        **changes,
    }


# --- groups -----------------------------------------------------------------------------


async def test_new_group_form_is_shown(client: httpx.AsyncClient) -> None:
    await sign_in_admin(client)
    response = await client.get("/admin/groups/new")
    assert response.status_code == 200
    assert 'action="/admin/groups/new"' in response.text
    assert 'name="_csrf_token"' in response.text


async def test_create_group_with_both_lines_and_an_audit_event(client: httpx.AsyncClient) -> None:
    admin_id = await sign_in_admin(client)
    response = await post_form(client, "/admin/groups/new", group_form())
    assert response.status_code == 302
    assert response.headers["location"] == "/groups/climate"

    group = found(await WorkingGroup.select().where(WorkingGroup.slug == "climate").first())
    assert group["name"] == "Working Group on Climate"
    assert group["mandate"] == "Looks at our **footprint**."
    lines = await ReportingLine.select().where(ReportingLine.group == group["id"])
    assert sorted(line["recipient"] for line in lines) == ["board", "director"]
    event = await last_event()
    assert event["action"] == "group.created"
    assert event["entity_id"] == str(group["id"])
    assert event["actor_id"] == admin_id

    page = await client.get("/groups/climate")
    assert "Working Group on Climate created, with a Director line and a Board line." in page.text
    assert "<strong>footprint</strong>" in page.text


async def test_duplicate_slug_or_name_is_a_field_error(client: httpx.AsyncClient) -> None:
    await make_group(slug="alpha", name="Alpha group")
    await sign_in_admin(client)
    before = await state()

    response = await post_form(client, "/admin/groups/new", group_form(slug="alpha"))
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "slug") == "Another group already has this short name."
    assert field_error(response.text, "name") is None
    assert 'value="Working Group on Climate"' in response.text  # what was typed is kept

    response = await post_form(
        client, "/admin/groups/new", group_form(name="Alpha group", slug="alpha")
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "name") == "Another group already has this name."
    assert field_error(response.text, "slug") == "Another group already has this short name."
    assert "Nothing has been saved" in response.text
    assert await state() == before


async def test_slugs_the_admin_addresses_use_are_refused(client: httpx.AsyncClient) -> None:
    # /admin/groups/lines/edit would be read as the reporting line "edit" and answer 404.
    await sign_in_admin(client)
    before = await state()
    for slug in ("lines", "memberships", "new", "edit"):
        response = await post_form(client, "/admin/groups/new", group_form(slug=slug))
        response = await shown_after_refusal(client, response)
        assert "choose another" in (field_error(response.text, "slug") or ""), slug
    assert await state() == before


async def test_bad_group_values_are_field_errors(client: httpx.AsyncClient) -> None:
    await sign_in_admin(client)
    before = await state()
    response = await post_form(
        client,
        "/admin/groups/new",
        group_form(name="", slug="Not a slug", quorum_rule="fixed", quorum_count="0"),
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "name") == "Name is required."
    assert field_error(response.text, "slug") is not None
    assert field_error(response.text, "quorum_count") is not None
    assert await state() == before


def field_errors_of(html: str, *names: str) -> dict[str, str | None]:
    """Each field's error as the person reads it (the page escapes quotes)."""
    errors = {name: field_error(html, name) for name in names}
    return {name: error and unescape(error) for name, error in errors.items()}


async def test_every_bad_group_field_is_reported_in_one_round(client: httpx.AsyncClient) -> None:
    await sign_in_admin(client)
    before = await state()
    response = await post_form(
        client,
        "/admin/groups/new",
        group_form(
            name="x" * 201,
            slug="Not a slug!",
            mandate="m" * 20001,
            quorum_rule="sometimes",
            quorum_count="many",
        ),
    )
    response = await shown_after_refusal(client, response)
    assert field_errors_of(
        response.text, "name", "slug", "mandate", "quorum_rule", "quorum_count"
    ) == {
        "name": "Name must be at most 200 characters.",
        "slug": "Short name may use lower-case letters, digits and single hyphens.",
        "mandate": "Mandate must be at most 20000 characters.",
        "quorum_rule": "Choose one of: majority, two_thirds, fixed.",
        "quorum_count": "Fixed quorum must be a whole number.",
    }
    assert "Nothing has been saved" in response.text
    assert await state() == before


async def test_rules_that_read_the_database_are_reported_with_the_others(
    client: httpx.AsyncClient,
) -> None:
    await make_group(slug="alpha", name="Alpha group")
    await sign_in_admin(client)
    before = await state()
    for url in ("/admin/groups/new", "/admin/groups/alpha/edit"):
        response = await post_form(
            client,
            url,
            group_form(
                name="Alpha group" if url.endswith("new") else "",
                slug="memberships",
                quorum_rule="fixed",
                quorum_count="0",
            ),
        )
        response = await shown_after_refusal(client, response)
        errors = field_errors_of(response.text, "name", "slug", "quorum_count")
        assert errors == {
            "name": "Another group already has this name."
            if url.endswith("new")
            else "Name is required.",
            "slug": "This short name is used by the service's own addresses; choose another.",
            "quorum_count": "A fixed quorum needs a number of members of at least 1.",
        }, url
    assert await state() == before


async def test_a_short_name_is_stored_in_lower_case(client: httpx.AsyncClient) -> None:
    await sign_in_admin(client)
    response = await post_form(client, "/admin/groups/new", group_form(slug=" Climate "))
    assert response.status_code == 302
    assert response.headers["location"] == "/groups/climate"
    assert await WorkingGroup.exists().where(WorkingGroup.slug == "climate")


async def test_edit_group(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha", name="Alpha group")
    await sign_in_admin(client)
    form = await client.get("/admin/groups/alpha/edit")
    assert form.status_code == 200
    assert 'value="Alpha group"' in form.text

    response = await post_form(
        client,
        "/admin/groups/alpha/edit",
        group_form(
            name="Alpha renamed", slug="alpha-renamed", quorum_rule="fixed", quorum_count="3"
        ),
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/groups/alpha-renamed"
    group = found(await WorkingGroup.select().where(WorkingGroup.id == group_id).first())
    assert (group["name"], group["slug"], group["quorum_count"]) == (
        "Alpha renamed",
        "alpha-renamed",
        3,
    )
    assert (await last_event())["action"] == "group.updated"
    assert (await client.get("/groups/alpha")).status_code == 404


async def test_edit_group_keeping_its_own_name_is_allowed(client: httpx.AsyncClient) -> None:
    await make_group(slug="alpha", name="Alpha group")
    await sign_in_admin(client)
    response = await post_form(
        client, "/admin/groups/alpha/edit", group_form(name="Alpha group", slug="alpha")
    )
    assert response.status_code == 302


async def test_edit_group_to_another_groups_name_is_refused(client: httpx.AsyncClient) -> None:
    await make_group(slug="alpha", name="Alpha group")
    await make_group(slug="beta", name="Beta group")
    await sign_in_admin(client)
    before = await state()
    response = await post_form(
        client, "/admin/groups/alpha/edit", group_form(name="Beta group", slug="alpha")
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "name") == "Another group already has this name."
    assert await state() == before


async def test_editing_an_unknown_group_is_404(client: httpx.AsyncClient) -> None:
    await sign_in_admin(client)
    assert (await client.get("/admin/groups/nope/edit")).status_code == 404
    assert (await post_form(client, "/admin/groups/nope/edit", group_form())).status_code == 404


# --- memberships ------------------------------------------------------------------------


async def test_add_membership(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha", name="Alpha group")
    user_id = await make_user(email="milo@example.org", name="Milo")
    await sign_in_admin(client)
    form = await client.get("/admin/groups/alpha/memberships/new")
    assert form.status_code == 200
    assert f'value="{today().isoformat()}"' in form.text

    response = await post_form(
        client,
        "/admin/groups/alpha/memberships/new",
        {"email": " Milo@Example.org ", "role": "chair", "starts_on": "2026-01-01"},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/groups/alpha"
    row = found(await Membership.select().where(Membership.user == user_id).first())
    assert (row["group"], row["role"], row["starts_on"], row["ends_on"]) == (
        group_id,
        "chair",
        dt.date(2026, 1, 1),
        None,
    )
    event = await last_event()
    assert event["action"] == "membership.created"
    assert event["summary"] == "Milo joins Alpha group as chair from 2026-01-01"


async def test_add_membership_refusals_change_nothing(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha")
    user_id = await make_user(email="milo@example.org")
    await make_membership(user_id, group_id, "member", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    await sign_in_admin(client)
    before = await state()
    url = "/admin/groups/alpha/memberships/new"

    cases = [
        ({"email": "nobody@example.org", "starts_on": "2027-01-01"}, "email",
         "No account has this email. Invite the person first."),
        ({"email": "", "starts_on": "2027-01-01"}, "email", "Email is required."),
        ({"email": "milo@example.org", "starts_on": "2027-02-01", "ends_on": "2027-01-31"},
         "ends_on", "The end date must be on or after the start date."),
        ({"email": "milo@example.org", "starts_on": "2026-12-31"}, "starts_on",
         "Overlaps an existing term; end or change that one first."),
        ({"email": "milo@example.org", "starts_on": "2025-01-01", "ends_on": "2026-01-01"},
         "starts_on", "Overlaps an existing term; end or change that one first."),
        ({"email": "milo@example.org", "starts_on": "2027-01-01", "role": "emperor"}, "role",
         "Choose one of: chair, secretary, member."),
        ({"email": "milo@example.org", "starts_on": "1 Jan 2027"}, "starts_on",
         "Start date must be a date (YYYY-MM-DD)."),
    ]  # fmt: skip
    for data, field, message in cases:
        response = await post_form(client, url, {"role": "member", **data})
        response = await shown_after_refusal(client, response)
        assert field_error(response.text, field) == message, data
    assert await state() == before


async def test_every_bad_membership_field_is_reported_in_one_round(
    client: httpx.AsyncClient,
) -> None:
    group_id = await make_group(slug="alpha")
    user_id = await make_user(email="milo@example.org")
    membership_id = await make_membership(user_id, group_id, "member", dt.date(2026, 1, 1))
    await sign_in_admin(client)
    before = await state()

    response = await post_form(
        client,
        "/admin/groups/alpha/memberships/new",
        {"email": "", "role": "emperor", "starts_on": "soon", "ends_on": "31/12/2027"},
    )
    response = await shown_after_refusal(client, response)
    assert field_errors_of(response.text, "email", "role", "starts_on", "ends_on") == {
        "email": "Email is required.",
        "role": "Choose one of: chair, secretary, member.",
        "starts_on": "Start date must be a date (YYYY-MM-DD).",
        "ends_on": "End date must be a date (YYYY-MM-DD).",
    }

    # The rules that need the database come in the same round as the others.
    response = await post_form(
        client,
        "/admin/groups/alpha/memberships/new",
        {"email": "nobody@example.org", "role": "emperor", "starts_on": "2027-02-01",
         "ends_on": "2027-01-31"},
    )  # fmt: skip
    response = await shown_after_refusal(client, response)
    assert field_errors_of(response.text, "email", "role", "ends_on") == {
        "email": "No account has this email. Invite the person first.",
        "role": "Choose one of: chair, secretary, member.",
        "ends_on": "The end date must be on or after the start date.",
    }
    assert 'value="nobody@example.org"' in response.text

    response = await post_form(
        client,
        f"/admin/groups/memberships/{membership_id}",
        {"role": "", "starts_on": "", "ends_on": "later"},
    )
    response = await shown_after_refusal(client, response)
    assert field_errors_of(response.text, "starts_on", "ends_on") == {
        "starts_on": "Start date is required.",
        "ends_on": "End date must be a date (YYYY-MM-DD).",
    }
    assert await state() == before


async def test_a_new_term_right_after_the_old_one_is_allowed(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha")
    user_id = await make_user(email="milo@example.org")
    await make_membership(user_id, group_id, "member", dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    await sign_in_admin(client)
    response = await post_form(
        client,
        "/admin/groups/alpha/memberships/new",
        {"email": "milo@example.org", "role": "chair", "starts_on": "2026-07-01"},
    )
    assert response.status_code == 302
    assert await Membership.count().where(Membership.user == user_id) == 2


async def test_edit_membership(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha")
    user_id = await make_user(name="Milo")
    membership_id = await make_membership(user_id, group_id, "member", dt.date(2026, 1, 1))
    await sign_in_admin(client)
    url = f"/admin/groups/memberships/{membership_id}"
    form = await client.get(url)
    assert form.status_code == 200
    assert 'value="2026-01-01"' in form.text

    response = await post_form(
        client, url, {"role": "secretary", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/groups/alpha"
    row = found(await Membership.select().where(Membership.id == membership_id).first())
    assert (row["role"], row["ends_on"]) == ("secretary", dt.date(2026, 12, 31))
    event = await last_event()
    assert event["action"] == "membership.updated"
    assert event["entity_id"] == str(membership_id)


async def test_edit_membership_refusals_change_nothing(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha")
    user_id = await make_user(email="milo@example.org")
    first = await make_membership(
        user_id, group_id, "member", dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    )
    await make_membership(user_id, group_id, "chair", dt.date(2026, 1, 1))
    await sign_in_admin(client)
    before = await state()
    url = f"/admin/groups/memberships/{first}"

    response = await post_form(
        client, url, {"role": "member", "starts_on": "2025-01-01", "ends_on": "2026-01-01"}
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "starts_on") == "Overlaps another term of this person."

    response = await post_form(
        client, url, {"role": "member", "starts_on": "2025-06-01", "ends_on": "2025-05-31"}
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "ends_on") == (
        "The end date must be on or after the start date."
    )

    response = await post_form(client, url, {"role": "member", "starts_on": ""})
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "starts_on") == "Start date is required."
    assert await state() == before


async def test_unknown_membership_is_404(client: httpx.AsyncClient) -> None:
    await sign_in_admin(client)
    assert (await client.get("/admin/groups/memberships/4242")).status_code == 404
    response = await post_form(
        client, "/admin/groups/memberships/4242", {"role": "member", "starts_on": "2026-01-01"}
    )
    assert response.status_code == 404


# --- reporting lines --------------------------------------------------------------------


async def board_line_id(group_id: int) -> int:
    row = found(
        await ReportingLine.select(ReportingLine.id)
        .where((ReportingLine.group == group_id) & (ReportingLine.recipient == "board"))
        .first()
    )
    return int(row["id"])


async def test_edit_reporting_line(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha")
    line_id = await board_line_id(group_id)
    await sign_in_admin(client)
    form = await client.get(f"/admin/groups/lines/{line_id}")
    assert form.status_code == 200
    assert "reporting line to the Board" in form.text

    response = await post_form(
        client,
        f"/admin/groups/lines/{line_id}",
        {"cadence": "half_yearly", "report_due_days": "45", "response_days": "60"},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/groups/alpha"
    line = found(await ReportingLine.select().where(ReportingLine.id == line_id).first())
    assert (line["cadence"], line["report_due_days"], line["response_days"]) == (
        "half_yearly",
        45,
        60,
    )
    # The Director line is untouched: each line has its own settings.
    other = await ReportingLine.select().where(
        (ReportingLine.group == group_id) & (ReportingLine.recipient == "director")
    )
    assert (other[0]["cadence"], other[0]["response_days"]) == ("quarterly", 30)
    event = await last_event()
    assert event["action"] == "reporting_line.updated"
    assert event["summary"].startswith("Board line: half_yearly")


async def test_bad_reporting_line_numbers_are_field_errors(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha")
    line_id = await board_line_id(group_id)
    await sign_in_admin(client)
    before = await state()
    response = await post_form(
        client,
        f"/admin/groups/lines/{line_id}",
        {"cadence": "hourly", "report_due_days": "soon", "response_days": "0"},
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "cadence") is not None
    assert field_error(response.text, "report_due_days") == (
        "Days to submit the report must be a whole number."
    )
    assert field_error(response.text, "response_days") == (
        "Days allowed for a response must be between 1 and 365."
    )
    assert 'value="soon"' in response.text

    response = await post_form(
        client,
        f"/admin/groups/lines/{line_id}",
        {"cadence": "quarterly", "report_due_days": "-1", "response_days": "366"},
    )
    response = await shown_after_refusal(client, response)
    assert field_error(response.text, "report_due_days") is not None
    assert field_error(response.text, "response_days") is not None

    response = await post_form(client, f"/admin/groups/lines/{line_id}", {})
    response = await shown_after_refusal(client, response)
    assert await state() == before


# --- seeding ----------------------------------------------------------------------------


async def test_seeding_twice_gives_two_groups_each_with_both_lines() -> None:
    first = await seed_default_groups()
    second = await seed_default_groups()
    assert len(first) == 2
    assert second == []
    groups = await WorkingGroup.select(WorkingGroup.id, WorkingGroup.slug).order_by(
        WorkingGroup.slug
    )
    assert [group["slug"] for group in groups] == ["ndi", "wellbeing"]
    for group in groups:
        lines = await ReportingLine.select(ReportingLine.recipient).where(
            ReportingLine.group == group["id"]
        )
        assert sorted(line["recipient"] for line in lines) == ["board", "director"]
    names = {row["name"] for row in await WorkingGroup.select(WorkingGroup.name)}
    assert names == {
        "Working Group on Wellbeing",
        "Working Group on Non-Discrimination, Diversity and Inclusion",
    }
    assert await AuditEvent.count().where(AuditEvent.action == "group.created") == 2
