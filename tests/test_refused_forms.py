"""Issue 16, on every signed-in form whose page has an address of its own: a refused POST is
answered with a 303 to that page (Post/Redirect/Get), whose view shows the error summary, each
field's error beside it and what was typed, and nothing is changed. A client without a sign-in
session (a bearer token) is shown the refusal where it posted, 422. Anonymous forms (sign-in,
register, password links, the pulse answer) and file uploads are shown again where posted."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from governance.accounts import second_factor
from governance.accounts.services import issue_api_token
from governance.actions import services as actions
from governance.actions.schemas import NewAction
from governance.core.clock import organisation_today, utcnow
from governance.core.signing import sign
from governance.core.tables import AuditEvent
from governance.notifications import links
from governance.piccolo_conf import APP_REGISTRY
from governance.pulses import services as pulses
from governance.pulses.schemas import NewPulse
from governance.reports import services as reports
from governance.reports.schemas import ReportDraft
from governance.reports.tables import Delivery
from governance.resolutions import services as resolutions
from governance.resolutions.schemas import NewResolution
from tests.factories import make_user, viewer_for
from tests.helpers import field_error, found, post_form, sign_in


@dataclass(frozen=True)
class Refusal:
    """One refused form: who posts what where, the page it belongs to, a field with an error
    (`message`, part of its text; "" for any) and a value typed that the page must show
    again ("" when all that was typed is secret)."""

    user: int
    url: str
    body: Mapping[str, str | Sequence[str]]
    page: str
    field: str
    message: str
    typed: str = ""


Setup = Callable[[Any], Awaitable[Refusal]]


def day(days: int) -> str:
    return (organisation_today() + dt.timedelta(days=days)).isoformat()


async def _admin() -> int:
    return await make_user("admin@example.org", "Admin Person", admin=True)


async def _action(cast: Any) -> int:
    command = NewAction(
        title="Draft the survey",
        due_on=organisation_today() + dt.timedelta(days=14),
        owner_ids=[cast.member],
    )
    return await actions.create_action(cast.group_id, command, await viewer_for(cast.chair))


async def _report(cast: Any, *, submitted: bool = True, opened: bool = True) -> int:
    chair = await viewer_for(cast.chair)
    draft = ReportDraft(kind="recommendation", title="Flexible hours", body="We recommend it.")
    report_id = await reports.create_report(cast.slug, draft, chair)
    if submitted:
        await reports.submit_report(report_id, chair)
    if submitted and opened:
        await reports.open_report(report_id, await viewer_for(cast.director))
    return report_id


async def _director_delivery(report_id: int) -> int:
    delivery = (
        await Delivery.select(Delivery.id)
        .where((Delivery.report == report_id) & (Delivery.recipient == "director"))
        .first()
    )
    return int(found(delivery)["id"])


async def _pulse(cast: Any) -> int:
    command = NewPulse(title="Wellbeing check-in", theme="wellbeing", visibility="internal")
    return await pulses.create_pulse(cast.group_id, command, await viewer_for(cast.chair))


async def _resolution(cast: Any) -> int:
    command = NewResolution(
        title="Adopt the survey",
        text="That the group adopts the wellbeing survey.",
        closes_at=(utcnow() + dt.timedelta(hours=72)).replace(microsecond=0),
        visibility="internal",
    )
    return await resolutions.propose_resolution(cast.slug, command, await viewer_for(cast.chair))


async def profile(cast: Any) -> Refusal:
    body = {"display_name": "Typed Name", "timezone": "Mars/Olympus", "digest_frequency": "daily"}
    return Refusal(cast.member, "/profile", body, "/profile", "timezone", "", "Typed Name")


async def invite(cast: Any) -> Refusal:
    body = {"email": "not-an-address", "display_name": "Typed Invitee"}
    url = "/admin/users/invite"
    return Refusal(await _admin(), url, body, url, "email", "", "Typed Invitee")


async def edit_user(cast: Any) -> Refusal:
    url = f"/admin/users/{cast.member}"
    body = {"display_name": "y" * 201}
    return Refusal(await _admin(), url, body, url, "display_name", "at most", "y" * 201)


async def change_password(cast: Any) -> Refusal:
    body = {"current_password": "wrong", "password": "short", "password_confirm": "other"}
    url = "/profile/password"
    return Refusal(cast.member, url, body, url, "current_password", "")


async def change_email(cast: Any) -> Refusal:
    body = {"email": "not-an-address", "current_password": ""}
    url = "/profile/email"
    return Refusal(cast.member, url, body, url, "email", "", "not-an-address")


async def api_token(cast: Any) -> Refusal:
    body = {"label": "Typed label", "expires_in_days": "9999"}
    page = "/profile/security"
    return Refusal(cast.member, "/profile/tokens", body, page, "expires_in_days", "", "Typed label")


async def two_factor(cast: Any) -> Refusal:
    # Nothing typed (a code) is shown again; a new secret is offered to scan.
    enrolment = sign("totp-enrolment", {"u": cast.member, "s": second_factor.new_secret()})
    body = {"enrolment": enrolment, "code": "12345x"}
    page = "/profile/two-factor"
    return Refusal(cast.member, page, body, page, "code", "")


async def action_progress(cast: Any) -> Refusal:
    action_id = await _action(cast)
    body = {"body": "p" * 20_001}
    page = f"/actions/{action_id}"
    return Refusal(cast.member, f"{page}/progress", body, page, "body", "at most", "p" * 20_001)


async def new_action(cast: Any) -> Refusal:
    body = {"title": "Typed action title", "due_on": "not-a-day", "owner_ids": [str(cast.member)]}
    url = f"/groups/{cast.slug}/actions/new"
    return Refusal(cast.chair, url, body, url, "due_on", "", "Typed action title")


async def edit_group(cast: Any) -> Refusal:
    body = {"name": "Typed Group Name", "slug": "Bad Slug!", "quorum_rule": "majority"}
    url = f"/admin/groups/{cast.slug}/edit"
    return Refusal(await _admin(), url, body, url, "slug", "", "Typed Group Name")


async def add_membership(cast: Any) -> Refusal:
    body = {"email": "nobody.typed@example.org", "role": "member", "starts_on": day(0)}
    url = f"/admin/groups/{cast.slug}/memberships/new"
    return Refusal(await _admin(), url, body, url, "email", "", "nobody.typed@example.org")


async def new_meeting(cast: Any) -> Refusal:
    body = {"title": "Typed meeting title", "starts_at": "", "location": ""}
    url = f"/groups/{cast.slug}/meetings/new"
    return Refusal(cast.chair, url, body, url, "starts_at", "", "Typed meeting title")


async def new_report(cast: Any) -> Refusal:
    body = {"kind": "periodic", "period": "2026-Q9", "title": "Typed report", "route": "both"}
    url = f"/groups/{cast.slug}/reports/new"
    return Refusal(cast.chair, url, body, url, "period", "Name the period", "Typed report")


async def edit_report(cast: Any) -> Refusal:
    report_id = await _report(cast, submitted=False)
    body = {"kind": "recommendation", "title": "", "body": "Typed body text", "route": "both"}
    url = f"/reports/{report_id}/edit"
    return Refusal(cast.chair, url, body, url, "title", "Title is required.", "Typed body text")


async def report_response(cast: Any) -> Refusal:
    report_id = await _report(cast)
    delivery_id = await _director_delivery(report_id)
    body = {"response": "declined", "rationale": "", "action_title_1": "Typed follow-up"}
    return Refusal(
        cast.director,
        f"/deliveries/{delivery_id}/respond",
        body,
        f"/reports/{report_id}",
        "rationale",
        "Give the reasons",
        "Typed follow-up",
    )


async def resolution_vote(cast: Any) -> Refusal:
    resolution_id = await _resolution(cast)
    body = {"choice": "maybe", "comment": "Typed comment"}
    page = f"/resolutions/{resolution_id}"
    return Refusal(cast.member, f"{page}/vote", body, page, "choice", "", "Typed comment")


async def pulse_question(cast: Any) -> Refusal:
    pulse_id = await _pulse(cast)
    body = {"kind": "bogus", "prompt": "Typed prompt"}
    page = f"/pulses/{pulse_id}"
    return Refusal(cast.chair, f"{page}/questions", body, page, "kind", "", "Typed prompt")


async def pulse_launch(cast: Any) -> Refusal:
    pulse_id = await _pulse(cast)
    page = f"/pulses/{pulse_id}"
    body = {"closes_on": "not-a-day"}
    return Refusal(cast.chair, f"{page}/runs", body, page, "closes_on", "", "not-a-day")


async def transparency_generate(cast: Any) -> Refusal:
    body = {"scope": cast.slug, "period": "2026-H1", "edition": "public"}
    page = f"/groups/{cast.slug}/transparency"
    return Refusal(cast.chair, "/transparency/generate", body, page, "period", "", "2026-H1")


async def email_preferences(cast: Any) -> Refusal:
    body = {"digest_frequency": "hourly", "digest_weekday": "monday"}
    page = "/email/preferences"
    return Refusal(cast.member, page, body, page, "digest_frequency", "")


FORMS: dict[str, Setup] = {
    setup.__name__: setup
    for setup in (
        profile,
        invite,
        edit_user,
        change_password,
        change_email,
        api_token,
        two_factor,
        action_progress,
        new_action,
        edit_group,
        add_membership,
        new_meeting,
        new_report,
        edit_report,
        report_response,
        resolution_vote,
        pulse_question,
        pulse_launch,
        transparency_generate,
        email_preferences,
    )
}


async def row_counts() -> dict[str, int]:
    """How many rows every table holds, and the audit trail: what a refusal leaves alone."""
    counts = {
        table._meta.tablename: await table.count()
        for app_config in APP_REGISTRY.app_configs.values()
        for table in app_config.table_classes
    }
    return {**counts, "audit": await AuditEvent.count()}


async def delivery_states() -> list[tuple[int, str, Any]]:
    rows = await Delivery.select(Delivery.id, Delivery.state, Delivery.read_at)
    return sorted((row["id"], row["state"], row["read_at"]) for row in rows)


@pytest.mark.parametrize("form", sorted(FORMS))
async def test_a_refused_form_is_shown_again_at_its_pages_address(
    client: httpx.AsyncClient, cast: Any, form: str
) -> None:
    refusal = await FORMS[form](cast)
    await sign_in(client, refusal.user)
    before, deliveries = await row_counts(), await delivery_states()
    response = await post_form(client, refusal.url, refusal.body)
    assert response.status_code == 303, (response.status_code, response.text[:500])
    assert response.headers["location"] == refusal.page
    shown = await client.get(response.headers["location"])
    assert shown.status_code == 200
    assert 'class="error-summary"' in shown.text, shown.text[:2000]
    error = html.unescape(field_error(shown.text, refusal.field) or "")
    assert error and refusal.message in error, (refusal.field, error)
    if refusal.typed:
        assert html.escape(refusal.typed) in shown.text
    # Nothing was saved, not even a read receipt by the page view the refusal led to.
    assert await row_counts() == before
    assert await delivery_states() == deliveries
    # Shown once: the next view of the page is the page itself.
    again = await client.get(refusal.page)
    assert again.status_code == 200 and 'class="error-summary"' not in again.text


@pytest.mark.parametrize("form", ["action_progress", "report_response", "profile"])
async def test_a_token_client_is_shown_the_refusal_where_it_posted(
    client: httpx.AsyncClient, cast: Any, form: str
) -> None:
    refusal = await FORMS[form](cast)
    email = {cast.member: "member", cast.director: "director"}[refusal.user]
    token = await issue_api_token(f"{email}@example.org")
    before = await row_counts()
    response = await client.post(
        refusal.url, data=refusal.body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    error = html.unescape(field_error(response.text, refusal.field) or "")
    assert error and refusal.message in error
    assert await row_counts() == before


async def test_a_form_posted_without_a_session_is_shown_again_where_it_was_posted(
    client: httpx.AsyncClient, cast: Any
) -> None:
    """The email choices' signed link needs no sign-in: with no session to keep the refusal
    in, the form is shown again at the address it was posted to, 422."""
    url = f"/email/preferences/{links.preferences_token(cast.member)}"
    response = await post_form(client, url, {"digest_frequency": "hourly"})
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    assert field_error(response.text, "digest_frequency")


async def test_a_refused_response_never_counts_as_opening_the_report(
    client: httpx.AsyncClient, cast: Any
) -> None:
    """Posted before the Director opened the report: the view that shows the refusal is not
    the Director's reading of it; the next plain view is, once."""
    report_id = await _report(cast, opened=False)
    delivery_id = await _director_delivery(report_id)
    await sign_in(client, cast.director)
    body = {"response": "declined", "rationale": ""}
    response = await post_form(client, f"/deliveries/{delivery_id}/respond", body)
    assert response.status_code == 303
    audit = await AuditEvent.count()
    shown = await client.get(response.headers["location"])
    assert 'class="error-summary"' in shown.text
    state = await Delivery.select(Delivery.state).where(Delivery.id == delivery_id).first()
    assert found(state)["state"] == "delivered"
    assert await AuditEvent.count() == audit
    for _ in range(2):
        assert (await client.get(f"/reports/{report_id}")).status_code == 200
    state = await Delivery.select(Delivery.state).where(Delivery.id == delivery_id).first()
    assert found(state)["state"] == "read"
    assert await AuditEvent.count() == audit + 1
