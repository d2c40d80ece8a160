"""The deliveries page (`/deliveries`) a page at a time, filtered by status, line and the
date delivered, the reading rule in the query: with Board-only deliveries present, the
Director's pages, counts and "next" links are exactly those of a world without them."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import httpx

from governance.core.clock import organisation_today, organisation_zone
from governance.groups.tables import ReportingLine
from governance.reports.tables import Delivery, Report
from tests.factories import make_group, make_user
from tests.helpers import QueryCounter, field_error, found, sign_in

SECRET = "Board-only report"
STATES = ("delivered", "read", "acknowledged", "responded")


async def _world(with_secrets: bool = True) -> dict[str, list[int]]:
    """30 internal reports delivered on both lines a day apart, their states in turn; with
    secrets, as many Board-only reports, each also delivered on both lines (the Director's
    delivery of one is the hardest case: only the reading rule hides it). Returns the
    internal deliveries by line and state, soonest due first, under "LINE:STATE"."""
    group = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    await make_user("chair@example.org", "Chair Person")
    await make_user("director@example.org", "The Director", director=True)
    await make_user("board@example.org", "Board Member", board=True)
    found = await _reports(group, "internal", "Report")
    if with_secrets:
        await _reports(group, "board", SECRET)
    return found


async def _reports(group: int, visibility: str, title: str) -> dict[str, list[int]]:
    from governance.accounts.tables import User

    author = await User.select(User.id).where(User.email == "chair@example.org").first()
    assert author is not None
    lines = {
        row["recipient"]: row["id"]
        for row in await ReportingLine.select(ReportingLine.id, ReportingLine.recipient).where(
            ReportingLine.group == group
        )
    }
    # Each delivered at noon of its day in the organisation's time zone, so that the day it
    # was delivered on is the same whatever the hour the test runs at (at 23:30 UTC a day of
    # British Summer Time is already the next day).
    noon = dt.time(12, tzinfo=organisation_zone())
    found: dict[str, list[int]] = {}
    for number in range(30):
        day = organisation_today() - dt.timedelta(days=60 - number)
        at = dt.datetime.combine(day, noon).astimezone(dt.UTC)
        report = await Report.insert(
            Report(
                group=group,
                kind="recommendation",
                title=f"{title} {number}",
                visibility=visibility,
                status="submitted",
                created_by=author["id"],
                created_at=at,
                updated_at=at,
                submitted_at=at,
                submitted_by=author["id"],
            )
        ).returning(Report.id)
        for recipient in ("director", "board"):
            state = STATES[number % 4]
            row = await Delivery.insert(
                Delivery(
                    report=report[0]["id"],
                    line=lines[recipient],
                    recipient=recipient,
                    state=state,
                    delivered_at=at,
                    response_due_on=organisation_today() + dt.timedelta(days=number - 10),
                    response="noted" if state == "responded" else "",
                    responded_at=at if state == "responded" else None,
                )
            ).returning(Delivery.id)
            found.setdefault(f"{recipient}:{state}", []).append(int(row[0]["id"]))
    return found


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="delivery-(\d+)">', html)]


def _next(html: str) -> str | None:
    if 'aria-label="Delivery pages"' not in html:
        return None
    nav = html.split('aria-label="Delivery pages"')[1].split("</nav>")[0]
    found = re.search(r'<a href="([^"]+)" rel="next">Next</a>', nav)
    return unescape(found.group(1)) if found else None


async def _walk(client: httpx.AsyncClient, url: str, counter: QueryCounter) -> list[str]:
    """Every page's text from `url` on, each costing what the first does."""
    pages, costs = [], set()
    while url:
        with counter(navigation_kept=True):
            response = await client.get(url)
        assert response.status_code == 200, response.text
        costs.add(counter.count)
        pages.append(response.text)
        url = _next(response.text) or ""
    assert len(costs) == 1, costs
    return pages


def _without_csrf(html: str) -> str:
    """A page without its form token (a new one each sign-in)."""
    return re.sub(r'name="_csrf[^>]*>', "", html)


URLS = (
    "/deliveries",
    "/deliveries?status=all",
    "/deliveries?status=answered",
    "/deliveries?status=awaiting_acknowledgement",
    "/deliveries?status=awaiting_response",
    "/deliveries?status=overdue",
)


async def test_the_directors_pages_are_full_and_hide_nothing(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    found = await _world()
    await sign_in(client, (await _director()))
    await client.get("/deliveries")
    pages = await _walk(client, "/deliveries?status=all", count_queries)
    assert [len(_ids(page)) for page in pages] == [20, 10]
    director = [i for state in STATES for i in found[f"director:{state}"]]
    assert sorted(i for page in pages for i in _ids(page)) == sorted(director)
    assert SECRET not in "".join(pages)
    waiting = await _walk(client, "/deliveries", count_queries)
    expected = sorted(
        found["director:delivered"] + found["director:read"] + found["director:acknowledged"]
    )
    assert [i for page in waiting for i in _ids(page)] == expected
    # "(23)" waiting, counted over what the Director may read only.
    assert "Awaiting acknowledgement or response (23)" in waiting[0]
    assert "Answered (7)" in waiting[0]


async def _director() -> int:
    from governance.accounts.tables import User

    row = found(await User.select(User.id).where(User.email == "director@example.org").first())
    return int(row["id"])


async def _director_pages(client: httpx.AsyncClient, counter: QueryCounter) -> list[str]:
    client.cookies.clear()
    await sign_in(client, await _director())
    await client.get("/deliveries")
    return [_without_csrf(page) for url in URLS for page in await _walk(client, url, counter)]


async def test_board_only_deliveries_change_nothing_the_director_sees(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    """The Director's pages, counts, page sizes and links, before and after as many
    Board-only deliveries as theirs arrive (due on the same days, between theirs): the
    same, byte for byte."""
    found = await _world(with_secrets=False)
    before = await _director_pages(client, count_queries)
    report = await Report.select(Report.group).first()
    assert report is not None
    group = report["group"]
    await _reports(group, "board", SECRET)
    after = await _director_pages(client, count_queries)
    assert before == after
    assert SECRET not in "".join(after)
    assert found  # the world had something to hide among


async def test_the_board_follows_both_lines_and_filters_keep_from_page_to_page(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    found = await _world()
    from governance.accounts.tables import User

    board = await User.select(User.id).where(User.email == "board@example.org").first()
    assert board is not None
    await sign_in(client, board["id"])
    first = (await client.get("/deliveries")).text
    assert SECRET in first  # the Board reads Board-only reports
    assert 'id="management-overdue"' in first
    overdue = await _walk(client, "/deliveries?line=director&status=overdue", count_queries)
    ids = [i for page in overdue for i in _ids(page)]
    assert ids and all("days past due" in page for page in overdue)
    assert set(ids) <= {i for state in STATES[:3] for i in found[f"director:{state}"]} | set(
        await _secret_director_deliveries()
    )
    today = organisation_today()
    since = (today - dt.timedelta(days=50)).isoformat()
    until = (today - dt.timedelta(days=40)).isoformat()
    dated = await _walk(
        client, f"/deliveries?status=all&since={since}&until={until}", count_queries
    )
    # 11 days, two reports a day, on the Board's own line.
    assert [len(_ids(page)) for page in dated] == [20, 2]


async def _secret_director_deliveries() -> list[int]:
    rows = await Delivery.select(Delivery.id).where(
        (Delivery.recipient == "director") & (Delivery.report.visibility == "board")
    )
    return [row["id"] for row in rows]


async def test_bad_filters_are_said_never_a_500(client: httpx.AsyncClient) -> None:
    await _world()
    await sign_in(client, await _director())
    response = await client.get("/deliveries?status=late&since=2026-02-31&line=board")
    assert response.status_code == 422
    assert "Choose awaiting" in (field_error(response.text, "status") or "")
    assert field_error(response.text, "since")
    assert field_error(response.text, "line") == "Choose director."
    assert len(_ids(response.text)) == 20  # the list still shows, those filters left out
    backwards = await client.get("/deliveries?since=2026-12-10&until=2026-12-01")
    assert backwards.status_code == 422
    assert "before the first" in (field_error(backwards.text, "until") or "")
    for cursor in ("W10", "x" * 300):
        refused = await client.get(f"/deliveries?cursor={cursor}")
        assert refused.status_code in (400, 422), cursor


async def test_the_api_filters_deliveries_by_the_date_delivered(client: httpx.AsyncClient) -> None:
    await _world()
    from governance.accounts.services import issue_api_token

    headers = {"Authorization": f"Bearer {await issue_api_token('director@example.org')}"}
    today = organisation_today()
    params = {
        "line": "director",
        "since": (today - dt.timedelta(days=50)).isoformat(),
        "until": (today - dt.timedelta(days=40)).isoformat(),
    }
    body = (await client.get("/api/v1/deliveries", params=params, headers=headers)).json()
    # 11 days of one internal report each on the Director's line; the Board-only ones unseen.
    assert len(body["deliveries"]) == 11 and sum(body["counts"].values()) == 11
    assert SECRET not in str(body)
    for bad in ({"since": "2026-02-30"}, {"since": "2026-12-10", "until": "2026-12-01"}):
        refused = await client.get("/api/v1/deliveries", params=bad, headers=headers)
        assert refused.status_code in (400, 422), bad
        assert refused.headers["content-type"].startswith("application/problem+json")
