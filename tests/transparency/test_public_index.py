"""The public index at /transparency: approved minutes' public versions by group and date,
and an Atom feed of published public reports and public minutes, with only public content
for a visitor who is not signed in."""

from __future__ import annotations

from xml.etree import ElementTree

import httpx

from tests.access_world import SECRETS, build_world
from tests.helpers import found

ATOM = "{http://www.w3.org/2005/Atom}"


async def test_the_index_lists_public_minutes_and_links_the_feed(
    client: httpx.AsyncClient,
) -> None:
    world = await build_world()
    page = await client.get("/transparency")
    assert page.status_code == 200
    approved = world.params["approved_meeting_id"]
    assert f'href="/public/meetings/{approved}"' in page.text
    # Minutes not yet approved are not public.
    assert f'href="/public/meetings/{world.params["circulated_meeting_id"]}"' not in page.text
    assert '<link rel="alternate" type="application/atom+xml"' in page.text
    assert 'href="/transparency/feed.atom"' in page.text
    assert not [secret for secret in SECRETS["anonymous"] if secret in page.text]


async def test_the_feed_is_atom_with_only_public_content(client: httpx.AsyncClient) -> None:
    world = await build_world()
    response = await client.get("/transparency/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert not [secret for secret in SECRETS["anonymous"] if secret in response.text]
    feed = ElementTree.fromstring(response.content)  # noqa: S314 - our own feed
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id")
    assert feed.findtext(f"{ATOM}updated")
    assert feed.findtext(f"{ATOM}title")
    entries = feed.findall(f"{ATOM}entry")
    links = set()
    for entry in entries:
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")
        assert entry.findtext(f"{ATOM}title")
        links.add(entry.find(f"{ATOM}link").get("href"))  # type: ignore[union-attr]
    assert links == {
        f"http://testserver/public/meetings/{world.params['approved_meeting_id']}",
        f"http://testserver/transparency/reports/{world.params['tr_public_id']}",
    }
    updated = [found(entry.findtext(f"{ATOM}updated")) for entry in entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.findtext(f"{ATOM}updated") == updated[0]
    # Every linked page answers anyone.
    for link in links:
        assert (await client.get(link.removeprefix("http://testserver"))).status_code == 200


async def test_an_empty_feed_is_still_valid(client: httpx.AsyncClient) -> None:
    body = (await client.get("/transparency/feed.atom")).content
    feed = ElementTree.fromstring(body)  # noqa: S314 - our own feed
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00Z"
