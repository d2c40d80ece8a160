"""A form refused on the meeting page (issue 16): the POST is answered with a 303 to the
meeting page's own address (Post/Redirect/Get), and that page shows the refused form again
with every field's error beside it, the error summary, and what was typed; every link of the
summary leads to a field that is on the page. The refusal is shown once."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from governance.accounts.services import issue_api_token
from governance.accounts.tables import UserSession
from governance.core.clock import utcnow
from governance.meetings import services
from governance.meetings.schemas import CONFLICT_MAX_LENGTH, AgendaItemDetails
from governance.meetings.tables import AgendaItem, ConflictOfInterest, Decision
from tests.factories import make_meeting, viewer_for
from tests.helpers import field_error, post_form, shown_after_refusal, sign_in


def summary_targets(page: str) -> list[str]:
    """The ids the error summary links to."""
    found = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert found, "no error summary"
    return re.findall(r'href="#([^"]+)"', found.group(0))


def assert_summary_links_lead_to_fields(page: str) -> None:
    """Each link of the error summary names exactly one element of the page, a field."""
    targets = summary_targets(page)
    assert targets
    for target in targets:
        tags = re.findall(rf'<(input|select|textarea)\b[^>]*\bid="{re.escape(target)}"', page)
        assert len(tags) == 1, (target, tags)
        assert len(re.findall(rf'\bid="{re.escape(target)}"', page)) == 1, target


async def _in_progress(cast) -> tuple[int, int]:
    started = (utcnow() - dt.timedelta(hours=1)).replace(microsecond=0)
    meeting_id = await make_meeting(cast.slug, cast.chair, starts_at=started)
    item_id = await services.add_agenda_item(
        meeting_id,
        AgendaItemDetails(title="Budget", visibility="internal", notes=""),
        await viewer_for(cast.chair),
    )
    return meeting_id, item_id


FORMS = {
    "agenda": (
        lambda m, i, cast: f"/meetings/{m}/agenda",
        lambda cast, i: {"title": "", "visibility": "secret", "notes": "Typed *notes*"},
        {"title": "Item title is required."},
    ),
    "move": (
        lambda m, i, cast: f"/agenda-items/{i}/move",
        lambda cast, i: {"position": "5"},
        {"position": "Choose a position from 1 to 1."},
    ),
    "conflict": (
        lambda m, i, cast: f"/agenda-items/{i}/conflicts",
        lambda cast, i: {
            "user_id": str(cast.stranger),
            "description": "d" * (CONFLICT_MAX_LENGTH + 1),
        },
        {"user_id": "Choose a member of the group.", "description": "at most"},
    ),
    "decision": (
        lambda m, i, cast: f"/meetings/{m}/decisions",
        lambda cast, i: {"agenda_item_id": str(i), "text": "", "votes_for": "-1"},
        {"text": "Decision is required.", "votes_for": "between 0 and 1000"},
    ),
    "attendance": (
        lambda m, i, cast: f"/meetings/{m}/attendance",
        lambda cast, i: {f"mode_{cast.member}": "asleep", "guests": "Dr Guest\n" + "g" * 201},
        {"guests": "at most 200 characters"},
    ),
    "cancel": (
        lambda m, i, cast: f"/meetings/{m}/cancel",
        lambda cast, i: {"reason": ""},
        {"reason": "required"},
    ),
    "held": (
        lambda m, i, cast: f"/meetings/{m}/held",
        lambda cast, i: {},
        {"understood": "Tick the box to confirm"},
    ),
}


@pytest.mark.parametrize("form", sorted(FORMS))
async def test_a_refused_form_is_shown_again_at_the_meeting_pages_address(
    client: httpx.AsyncClient, cast, form: str
) -> None:
    meeting_id, item_id = await _in_progress(cast)
    url, body, expected = FORMS[form]
    await sign_in(client, cast.chair)
    sent = body(cast, item_id)
    response = await post_form(client, url(meeting_id, item_id, cast), sent)
    assert response.status_code == 303
    assert response.headers["location"] == f"/meetings/{meeting_id}"
    page = await shown_after_refusal(client, response)
    for name, message in expected.items():
        assert message in (field_error(page.text, name) or ""), (name, page.text[:3000])
    assert_summary_links_lead_to_fields(page.text)
    assert page.text.startswith("<!doctype html>") and "<title>Error: " in page.text
    # Shown once: the next view of the page is the page itself.
    again = await client.get(f"/meetings/{meeting_id}")
    assert again.status_code == 200 and 'class="error-summary"' not in again.text
    assert await AgendaItem.count() == 1
    assert await ConflictOfInterest.count() == 0 and await Decision.count() == 0


async def test_what_was_typed_is_kept(client: httpx.AsyncClient, cast) -> None:
    meeting_id, _ = await _in_progress(cast)
    await sign_in(client, cast.chair)
    response = await post_form(
        client,
        f"/meetings/{meeting_id}/agenda",
        {"title": "", "visibility": "board", "notes": "Line one\nline <two> & three"},
    )
    page = (await shown_after_refusal(client, response)).text
    assert ">Line one\nline &lt;two&gt; &amp; three</textarea>" in page
    assert '<option value="board" selected>' in page


async def test_a_refusal_is_shown_only_on_its_own_page(client: httpx.AsyncClient, cast) -> None:
    meeting_id, _ = await _in_progress(cast)
    other_id, _ = await _in_progress(cast)
    await sign_in(client, cast.chair)
    response = await post_form(client, f"/meetings/{meeting_id}/agenda", {"title": ""})
    assert response.status_code == 303
    # Another page viewed first: the refusal is forgotten, never shown there or later.
    other = await client.get(f"/meetings/{other_id}")
    assert 'class="error-summary"' not in other.text
    page = await client.get(f"/meetings/{meeting_id}")
    assert 'class="error-summary"' not in page.text
    assert [row["refused_form"] for row in await UserSession.select(UserSession.refused_form)] == [
        ""
    ]


async def test_a_refusal_kept_too_long_is_not_shown(
    client: httpx.AsyncClient, cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting_id, _ = await _in_progress(cast)
    await sign_in(client, cast.chair)
    response = await post_form(client, f"/meetings/{meeting_id}/agenda", {"title": ""})
    assert response.status_code == 303
    monkeypatch.setattr("governance.accounts.sessions.REFUSED_FORM_SECONDS", -1)
    page = await client.get(f"/meetings/{meeting_id}")
    assert page.status_code == 200 and 'class="error-summary"' not in page.text


async def test_a_token_client_is_shown_the_refusal_where_it_posted(
    client: httpx.AsyncClient, cast
) -> None:
    meeting_id, _ = await _in_progress(cast)
    chair_token = await issue_api_token("chair@example.org")
    response = await client.post(
        f"/meetings/{meeting_id}/agenda",
        data={"title": ""},
        headers={"Authorization": f"Bearer {chair_token}"},
    )
    assert response.status_code == 422
    assert field_error(response.text, "title") == "Item title is required."
