"""The group page: mandate (Markdown, sanitised), members with their terms, both lines."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import httpx
import pytest

from governance.accounts.policy import CurrentUser
from governance.accounts.tables import User
from governance.core.clock import organisation_today
from governance.groups.queries import load_viewer
from tests.factories import make_group, make_membership, make_user
from tests.helpers import found, sign_in


class TagCollector(HTMLParser):
    """Every element and attribute a browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    collector = TagCollector()
    collector.feed(html)
    return collector.tags


def section(html: str, heading_id: str) -> str:
    """The part of the page under one of its headings."""
    return html.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


async def current_user(user_id: int) -> CurrentUser:
    row = await User.select().where(User.id == user_id).first()
    return CurrentUser.from_row(found(row))


async def signed_in_member(client: httpx.AsyncClient, group_id: int) -> int:
    user_id = await make_user(name="Reader")
    await make_membership(user_id, group_id)
    await sign_in(client, user_id)
    return user_id


async def test_mandate_is_rendered_from_markdown(client: httpx.AsyncClient) -> None:
    group_id = await make_group(
        slug="alpha",
        mandate="We look after **wellbeing**.\n\n- workload\n- [policy](https://example.org/p)",
    )
    await signed_in_member(client, group_id)
    html = (await client.get("/groups/alpha")).text
    assert "<strong>wellbeing</strong>" in html
    assert "<li>workload</li>" in html
    assert '<a href="https://example.org/p" rel="noopener noreferrer nofollow">policy</a>' in html
    assert "**" not in html


@pytest.mark.parametrize(
    "mandate",
    [
        "<script>alert('mandate')</script>",
        "Hello <script>alert('mandate')</script> there",
        "[click me](javascript:alert('mandate'))",
        "[click me](JAVASCRIPT:alert('mandate'))",
        "<a href=\"javascript:alert('mandate')\">click me</a>",
        "<javascript:alert('mandate')>",
        "[click me][ref]\n\n[ref]: javascript:alert('mandate')",
        "<img src=x onerror=\"alert('mandate')\">",
        "![x](javascript:alert('mandate'))",
        '<iframe src="https://evil.example"></iframe>',
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
async def test_mandate_cannot_carry_script(client: httpx.AsyncClient, mandate: str) -> None:
    group_id = await make_group(slug="alpha", mandate=mandate)
    await signed_in_member(client, group_id)
    response = await client.get("/groups/alpha")
    assert response.status_code == 200
    for tag, attributes in elements(response.text):
        if tag == "script":  # only the service's own files (base.html's nav.js), never inline
            assert (attributes.get("src") or "").startswith("/static/"), attributes
            continue
        assert tag not in {"iframe", "img", "object", "embed"}, tag
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name)
            if name in {"href", "src", "action"}:
                scheme = value.strip().lower().split(":", 1)[0]
                assert scheme not in {"javascript", "data", "vbscript"}, (tag, name, value)


async def test_current_members_are_listed_with_their_terms(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha", name="Alpha group")
    chair = await make_user(name="Chidi Chair")
    await make_membership(chair, group_id, "chair", dt.date(2026, 1, 5), dt.date(2027, 12, 31))
    await signed_in_member(client, group_id)
    members = section((await client.get("/groups/alpha")).text, "members")
    assert "Chidi Chair" in members
    assert "5 Jan 2026 \u2013 31 Dec 2027" in members  # an en dash between the dates
    assert "open-ended" in members  # the reader's own term has no end
    # The chair is listed before plain members.
    assert members.index("Chidi Chair") < members.index("Reader")


async def test_both_reporting_lines_are_shown(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha")
    await signed_in_member(client, group_id)
    html = (await client.get("/groups/alpha")).text
    assert '<th scope="row">Executive Director</th>' in html
    assert '<th scope="row">Board</th>' in html
    assert html.count("30 days after each period ends") == 2


async def test_admin_sees_edit_links_and_a_member_does_not(client: httpx.AsyncClient) -> None:
    group_id = await make_group(slug="alpha")
    await signed_in_member(client, group_id)
    html = (await client.get("/groups/alpha")).text
    assert "/admin/groups/alpha/edit" not in html
    assert "/admin/groups/lines/" not in html
    client.cookies.clear()
    await sign_in(client, await make_user(admin=True))
    html = (await client.get("/groups/alpha")).text
    assert "/admin/groups/alpha/edit" in html
    assert html.count("/admin/groups/lines/") == 2
    assert "/admin/groups/alpha/memberships/new" in html


async def test_term_ended_yesterday_is_former_and_gives_no_role(
    client: httpx.AsyncClient,
) -> None:
    today = organisation_today()
    group_id = await make_group(slug="alpha")
    former = await make_user(name="Fiona Former")
    await make_membership(
        former, group_id, "chair", today - dt.timedelta(days=400), today - dt.timedelta(days=1)
    )
    viewer = await load_viewer(await current_user(former))
    assert viewer.group_roles == {}
    assert not viewer.is_member_of(group_id)
    assert "internal" not in viewer.readable_visibilities(group_id)

    await signed_in_member(client, group_id)
    html = (await client.get("/groups/alpha")).text
    members_table, former_list = html.split("Former members (1)")
    assert "Fiona Former" not in members_table
    assert "Fiona Former" in former_list


async def test_term_ending_today_still_counts(client: httpx.AsyncClient) -> None:
    today = organisation_today()
    group_id = await make_group(slug="alpha")
    leaving = await make_user(name="Lena Leaving")
    await make_membership(leaving, group_id, "secretary", today - dt.timedelta(days=100), today)
    viewer = await load_viewer(await current_user(leaving))
    assert viewer.group_roles == {group_id: "secretary"}
    assert viewer.leads(group_id)

    await sign_in(client, leaving)
    html = (await client.get("/groups/alpha")).text
    assert "You are the secretary" in html
    assert "Former members" not in html


async def test_future_term_is_not_current(client: httpx.AsyncClient) -> None:
    today = organisation_today()
    group_id = await make_group(slug="alpha")
    starting = await make_user(name="Sam Starting")
    await make_membership(starting, group_id, "member", today + dt.timedelta(days=1))
    viewer = await load_viewer(await current_user(starting))
    assert viewer.group_roles == {}

    await sign_in(client, starting)
    html = (await client.get("/groups/alpha")).text
    assert "You are" not in html
    assert "No current members." in html
    starting_later = html.split("<h3>Starting later</h3>")[1]
    assert "Sam Starting" in starting_later


async def test_strongest_current_role_wins(client: httpx.AsyncClient) -> None:
    today = organisation_today()
    group_id = await make_group(slug="alpha")
    user_id = await make_user()
    # A past chair term, then a current member term: today they are a member.
    await make_membership(
        user_id, group_id, "chair", today - dt.timedelta(days=400), today - dt.timedelta(days=31)
    )
    await make_membership(user_id, group_id, "member", today - dt.timedelta(days=30))
    viewer = await load_viewer(await current_user(user_id))
    assert viewer.group_roles == {group_id: "member"}
    assert not viewer.leads(group_id)


async def test_groups_list_counts_current_members_only(client: httpx.AsyncClient) -> None:
    today = organisation_today()
    alpha = await make_group(slug="alpha", name="Alpha group")
    await make_group(slug="beta", name="Beta group")
    reader = await signed_in_member(client, alpha)
    await make_membership(await make_user(), alpha, "member", today, today)
    await make_membership(
        await make_user(), alpha, "member", today - dt.timedelta(days=9), today - dt.timedelta(1)
    )
    await make_membership(await make_user(), alpha, "member", today + dt.timedelta(days=1))
    html = (await client.get("/groups")).text
    alpha_card = html.split("Alpha group")[1].split("</li>")[0]
    beta_card = html.split("Beta group")[1].split("</li>")[0]
    assert "2 current members · you are member" in alpha_card
    assert "0 current members" in beta_card
    assert reader
