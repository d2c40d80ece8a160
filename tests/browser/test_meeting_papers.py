"""Issue 12 in a real browser: a chair uploads two PDFs and an ODT to a meeting (one of them
on a Board-only agenda item), downloads the pack, and a member opens it; the Director's
pack lacks the Board-only paper and has the page count of a pack built from the same
meeting without that item. Every wait is on an event (a download, a navigation, a
locator), with generous timeouts for a loaded machine; nothing sleeps."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from playwright.async_api import Browser, FilePayload, Page, expect
from pypdf import PdfReader

from governance.core.clock import organisation_today, utcnow
from governance.documents.schemas import NewDocuments
from governance.documents.services import add_documents
from governance.meetings.schemas import AgendaItemDetails
from governance.meetings.services import add_agenda_item
from tests.browser.conftest import sign_in_through_form
from tests.documents.pack_samples import FakeUpload, odt, outline_of, pdf_of
from tests.factories import (
    PASSWORD,
    make_group,
    make_meeting,
    make_membership,
    make_user,
    viewer_for,
)

# A download of a pack built on a loaded machine may take a while: wait for it, generously.
DOWNLOAD_TIMEOUT_MS = 120_000
EXPECT_TIMEOUT_MS = 60_000


async def _pack_of(page: Page, meeting_url: str, folder: Path, name: str) -> PdfReader:
    await page.goto(meeting_url)
    link = page.get_by_role("link", name="Download the papers (one PDF)")
    async with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as waiting:
        await link.click()
    download = await waiting.value
    assert download.suggested_filename.endswith(".pdf")
    target = folder / name
    await download.save_as(target)
    return PdfReader(io.BytesIO(target.read_bytes()))


async def _upload(
    page: Page,
    files: list[tuple[str, bytes]],
    item: str | None,
    readers: str | None,
    expected_papers: int,
) -> None:
    await page.get_by_text("Upload papers", exact=True).click()
    form = page.locator("form.upload-form").first
    await form.get_by_label("Files to upload").set_input_files(
        [
            FilePayload(name=name, mimeType="application/octet-stream", buffer=data)
            for name, data in files
        ]
    )
    if item is not None:
        await form.get_by_label("Belongs to").select_option(label=item)
    if readers is not None:
        await form.get_by_label("Readers of the paper").select_option(readers)
    await form.get_by_role("button", name="Upload", exact=True).click()
    await expect(page.locator("li.paper")).to_have_count(expected_papers, timeout=EXPECT_TIMEOUT_MS)


async def _sign_in(browser: Browser, live_server: str, email: str) -> Page:
    context = await browser.new_context(accept_downloads=True)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = await context.new_page()
    await sign_in_through_form(page, live_server, email, PASSWORD)
    return page


async def _twin_without_board_item(chair: int, starts_at: dt.datetime) -> int:
    """The same meeting as the browser made, less the Board-only item and its paper."""
    viewer = await viewer_for(chair)
    meeting_id = await make_meeting(
        "wellbeing", chair, title="December meeting", starts_at=starts_at
    )
    for title in ("Welcome", "Budget"):
        await add_agenda_item(meeting_id, AgendaItemDetails(title=title), viewer)
    files = [FakeUpload("general.pdf", pdf_of(2)), FakeUpload("budget.odt", odt())]
    await add_documents("meeting", meeting_id, files, NewDocuments(), viewer)
    return meeting_id


async def test_chair_uploads_papers_and_each_reader_gets_their_pack(
    browser: Browser, live_server: str, tmp_path: Path
) -> None:
    group_id = await make_group(slug="wellbeing", name="Working Group on Wellbeing")
    start = organisation_today() - dt.timedelta(days=200)
    chair = await make_user("chair@example.org", "Wren Okafor")
    member = await make_user("member@example.org", "Milo Haddad")
    await make_user("director@example.org", "Dana Mensah", director=True)
    await make_membership(chair, group_id, "chair", start)
    await make_membership(member, group_id, "member", start)
    starts_at = (utcnow() + dt.timedelta(days=7)).replace(microsecond=0)
    meeting_id = await make_meeting(
        "wellbeing", chair, title="December meeting", starts_at=starts_at
    )
    viewer = await viewer_for(chair)
    for title, visibility in (
        ("Welcome", "internal"),
        ("Conduct of management", "board"),
        ("Budget", "internal"),
    ):
        await add_agenda_item(
            meeting_id, AgendaItemDetails(title=title, visibility=visibility), viewer
        )
    twin_id = await _twin_without_board_item(chair, starts_at)
    meeting_url = f"{live_server}/meetings/{meeting_id}"

    # The chair uploads two files at once for the whole meeting, then a Board-only paper
    # on the Board-only item, and downloads the pack.
    page = await _sign_in(browser, live_server, "chair@example.org")
    await page.goto(meeting_url)
    await _upload(page, [("general.pdf", pdf_of(2)), ("budget.odt", odt())], None, None, 2)
    await _upload(page, [("conduct.pdf", pdf_of(3))], "Item 2. Conduct of management", "board", 3)
    chair_pack = await _pack_of(page, meeting_url, tmp_path, "chair.pdf")
    titles = [item.title for item in outline_of(chair_pack)]
    assert titles == [
        "Cover and agenda",
        "general.pdf",
        "budget.odt",
        "2. Conduct of management: conduct.pdf",
    ]
    await page.context.close()

    # A member opens the pack: the same bookmarks, every page.
    page = await _sign_in(browser, live_server, "member@example.org")
    member_pack = await _pack_of(page, meeting_url, tmp_path, "member.pdf")
    assert [item.title for item in outline_of(member_pack)] == titles
    assert len(member_pack.pages) == len(chair_pack.pages)
    await page.context.close()

    # The Director's pack: no Board-only paper, and the pages of the meeting without it.
    page = await _sign_in(browser, live_server, "director@example.org")
    director_pack = await _pack_of(page, meeting_url, tmp_path, "director.pdf")
    twin_pack = await _pack_of(page, f"{live_server}/meetings/{twin_id}", tmp_path, "twin.pdf")
    assert [item.title for item in outline_of(director_pack)] == [
        "Cover and agenda",
        "general.pdf",
        "budget.odt",
    ]
    assert len(director_pack.pages) == len(twin_pack.pages) == len(chair_pack.pages) - 3
    text = "".join(p.extract_text() for p in director_pack.pages)
    assert "Conduct" not in text and "conduct.pdf" not in text
    await page.context.close()
