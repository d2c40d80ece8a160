"""The outbox page lists the mail sent in the last 90 days, newest first, a page at a time
with "Newer"/"Older" links, to one address when asked, so an administrator can confirm a
person was emailed; a Board-only email never shows to an administrator who is not on the
Board, nor leaves a gap in a page; a page deep in the list costs the queries of the first."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import httpx

from governance.core.clock import utcnow
from governance.core.tables import OutboundEmail
from tests.factories import make_group, make_user
from tests.helpers import QueryCounter, sign_in

PAGE = 20


async def _sent(recipient: str, at: dt.datetime, *, visibility: str | None, group: int) -> int:
    rows = await OutboundEmail.insert(
        OutboundEmail(
            recipient=recipient,
            template="board_only_notice" if visibility == "board" else "action_assigned",
            context={},
            dedupe_key=f"test:{recipient}:{at.isoformat()}:{visibility}",
            status="sent",
            next_attempt_at=at,
            created_at=at,
            sent_at=at,
            message_id=f"<{at.timestamp()}@example.org>",
            group_id=group if visibility else None,
            visibility=visibility,
        )
    ).returning(OutboundEmail.id)
    return int(rows[0]["id"])


async def _world() -> tuple[int, list[int]]:
    """80 emails sent over 80 hours, every third one about a Board-only matter; one sent
    100 days ago; one still waiting. Returns the admin and the ids the admin may see,
    newest first."""
    group = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    admin = await make_user("admin@example.org", "The Admin", admin=True)
    now = utcnow().replace(microsecond=0)
    visible = []
    for hour in range(80):
        board = hour % 3 == 0
        address = "ana@example.org" if hour % 2 else "tom@example.org"
        email_id = await _sent(
            address,
            now - dt.timedelta(hours=hour),
            visibility="board" if board else "internal",
            group=group,
        )
        if not board:
            visible.append(email_id)
    await _sent("ana@example.org", now - dt.timedelta(days=100), visibility=None, group=group)
    await OutboundEmail.update({OutboundEmail.status: "queued"}).where(
        OutboundEmail.id == visible.pop()
    )
    return admin, visible


def _sent_ids(html: str) -> list[int]:
    table = html.split('id="sent-heading"')[1].split("</table>")[0]
    return [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", table)]


def _link(html: str, name: str) -> str | None:
    nav = html.split('aria-label="Sent mail pages"')[1].split("</nav>")[0]
    found = re.search(rf'<a href="([^"]+)" rel="[a-z]+">{name}</a>', nav)
    return unescape(found.group(1)).split("#")[0] if found else None


async def test_sent_mail_pages_newest_first_with_no_gap(
    client: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    admin, visible = await _world()
    await sign_in(client, admin)
    first = (await client.get("/admin/outbox")).text
    assert 'aria-label="Sent mail pages"' in first
    assert _sent_ids(first) == visible[:PAGE]
    assert _link(first, "Newer") is None
    seen, html, pages = [], first, []
    while True:
        seen += _sent_ids(html)
        older = _link(html, "Older")
        if older is None:
            break
        with count_queries():
            response = await client.get(older)
        assert response.status_code == 200
        pages.append(count_queries.count)
        html = response.text
    # Every visible email, once, in order: no Board-only row, no gap, nothing older than
    # 90 days, nothing unsent.
    assert seen == visible
    with count_queries():
        await client.get("/admin/outbox")
    assert set(pages) == {count_queries.count}
    # And back: "Newer" from the last page gives the page before it.
    newer = _link(html, "Newer")
    assert newer is not None
    back = (await client.get(newer)).text
    assert _sent_ids(back) == visible[PAGE : 2 * PAGE]


async def test_sent_mail_to_one_address_and_a_bad_cursor(client: httpx.AsyncClient) -> None:
    admin, visible = await _world()
    await sign_in(client, admin)
    html = (await client.get("/admin/outbox?to=Ana@Example.org")).text
    ids = _sent_ids(html)
    rows = await OutboundEmail.select(OutboundEmail.id, OutboundEmail.recipient).where(
        OutboundEmail.id.is_in(ids)
    )
    assert ids and {row["recipient"] for row in rows} == {"ana@example.org"}
    assert ids == [i for i in visible if i in ids]
    nobody = (await client.get("/admin/outbox?to=nobody@example.org")).text
    assert "Nothing was sent to nobody@example.org in the last 90 days." in nobody
    for bad in ("not-a-cursor", "eyJ4IjoxfQ", "W10", "x" * 300):
        response = await client.get(f"/admin/outbox?cursor={bad}")
        assert response.status_code in (400, 422), (bad, response.status_code)
