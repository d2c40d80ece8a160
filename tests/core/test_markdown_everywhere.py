"""Long texts are Markdown everywhere (issue 16): rendered by markdown-it, cleaned by nh3,
bare addresses made links; no script and no javascript: link survives, on a page or in the
preview."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
from markupsafe import Markup

from governance.core.markdown import render_markdown
from tests.factories import make_group, make_membership, make_user
from tests.helpers import csrf_token, sign_in

HOSTILE = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<img src=x onerror=alert(1)>",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[x](  javascript:alert(1))",
    "<svg onload=alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "img", "svg", "iframe", "object", "style"}:
            self.bad.append(tag)
        for name, value in attrs:
            scheme = (value or "").strip().lower()
            if name.startswith("on") or scheme.startswith(("javascript:", "data:", "vbscript:")):
                self.bad.append(f"{tag} {name}={value}")


def dangerous(html: str) -> list[str]:
    """The tags and attributes of the HTML (not its escaped text) that could run a script."""
    parser = _Tags()
    parser.feed(html)
    return parser.bad


@pytest.mark.parametrize("source", HOSTILE)
def test_no_script_or_javascript_link_survives(source: str) -> None:
    assert not dangerous(str(render_markdown(source)))


def test_bold_lists_and_bare_addresses_become_html() -> None:
    html = str(render_markdown("**Done**\n\n- one\n- two\n\nSee https://example.org/plan."))
    assert "<strong>Done</strong>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://example.org/plan" rel="noopener noreferrer nofollow">' in html


async def _signed_in_member(client: httpx.AsyncClient) -> int:
    group_id = await make_group(slug="alpha", name="Alpha group")
    user_id = await make_user(email="milo@example.org", name="Milo")
    await make_membership(user_id, group_id, "chair")
    await sign_in(client, user_id)
    return user_id


async def test_preview_without_javascript_is_a_page_and_with_it_a_fragment(
    client: httpx.AsyncClient,
) -> None:
    await _signed_in_member(client)
    token = await csrf_token(client, "/")
    data = {
        "_csrf_token": token,
        "preview_field": "body",
        "body": "**Agreed**: see www.example.org <script>alert(1)</script>",
    }
    page = await client.post("/preview", data=data)
    assert page.status_code == 200
    assert "<h1>Preview</h1>" in page.text
    assert "<strong>Agreed</strong>" in page.text
    assert '<a href="http://www.example.org"' in page.text
    assert "<script>alert" not in page.text
    assert "/static/nav.js" in page.text
    fragment = await client.post("/preview?fragment=1", data=data)
    assert fragment.status_code == 200
    assert fragment.text.startswith("<p><strong>Agreed</strong>")
    assert not dangerous(fragment.text)


async def test_preview_needs_a_session(client: httpx.AsyncClient) -> None:
    response = await client.post("/preview", data={"preview_field": "body", "body": "x"})
    assert response.status_code in {302, 401, 403}


async def test_a_progress_note_shows_as_markdown_and_offers_a_preview(
    client: httpx.AsyncClient,
) -> None:
    from governance.actions.tables import ActionItem, ActionUpdate

    user_id = await _signed_in_member(client)
    token = await csrf_token(client, "/")
    created = await client.post(
        "/groups/alpha/actions/new",
        data={
            "_csrf_token": token,
            "title": "Write the plan",
            "due_on": "2099-01-01",
            "visibility": "internal",
            "source_type": "group",
            "owner_ids": str(user_id),
        },
    )
    assert created.status_code in {302, 303}, re.findall(r"error[^<]*<[^<]*", created.text)
    action = await ActionItem.select(ActionItem.id).first()
    assert action is not None
    progress = await client.post(
        f"/actions/{action['id']}/progress",
        data={"_csrf_token": token, "body": "**Half** done, see https://example.org/plan"},
    )
    assert progress.status_code in {302, 303}, progress.text[:500]
    assert await ActionUpdate.count() == 1
    page = (await client.get(f"/actions/{action['id']}")).text
    assert "<strong>Half</strong> done" in page
    assert '<a href="https://example.org/plan"' in page
    assert "**Half**" not in page
    assert 'formaction="/preview"' in page


def test_a_text_shown_again_is_rendered_once_and_a_changed_one_anew() -> None:
    from governance.core import markdown

    markdown._render_kept.cache_clear()
    first = markdown.render_markdown("Kept **text**")
    again = markdown.render_markdown("Kept **text**")
    changed = markdown.render_markdown("Kept **text**, changed")

    assert again == first == Markup("<p>Kept <strong>text</strong></p>\n")
    assert "changed" in changed
    assert markdown._render_kept.cache_info().hits == 1
    long_text = "word " * markdown.LONGEST_KEPT
    markdown.render_markdown(long_text)
    assert markdown._render_kept.cache_info().currsize == 2  # the long one is not kept
