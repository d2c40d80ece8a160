"""The meeting pack's builder (documents/pack.py): order, bookmarks, what is merged and
what is listed, and the cache key; the pack's route and its cache are tested further down."""

from __future__ import annotations

import io
import shutil

import pytest
from pypdf import PdfReader

from governance.documents.pack import (
    PackAgendaLine,
    PackCover,
    build_pack,
    cache_key,
    render_pack,
)
from tests.documents.pack_samples import ODT, odt, outline_of, paper, pdf_of, png
from tests.helpers import found

COVER = PackCover(
    group_name="Working Group on Wellbeing",
    meeting_title="December meeting",
    when="Thursday 10 December 2026, 10:00 to 12:00 (Europe/London)",
    place="Room 4",
)
AGENDA = [PackAgendaLine(11, "Welcome"), PackAgendaLine(12, "Budget"), PackAgendaLine(13, "AOB")]


def _outline(pdf: bytes) -> list[tuple[str, int]]:
    reader = PdfReader(io.BytesIO(pdf))
    return [
        (found(item.title), found(reader.get_destination_page_number(item)))
        for item in outline_of(reader)
    ]


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_papers_follow_the_agenda_each_with_its_bookmark() -> None:
    papers = [
        paper("General note", pdf_of(1)),
        paper("Accounts", pdf_of(3), key=12),
        paper("Welcome letter", pdf_of(2), key=11),
    ]
    pdf = render_pack(COVER, AGENDA, papers)
    reader = PdfReader(io.BytesIO(pdf))
    outline = _outline(pdf)
    assert [title for title, _ in outline] == [
        "Cover and agenda",
        "General note",
        "1. Welcome: Welcome letter",
        "2. Budget: Accounts",
    ]
    front = outline[1][1]
    assert [page for _, page in outline] == [0, front, front + 1, front + 3]
    assert len(reader.pages) == front + 6
    text = _text(pdf)
    assert "December meeting" in text and "Room 4" in text and "Europe/London" in text


async def test_the_build_runs_in_a_worker_thread_with_the_same_result() -> None:
    papers = [paper("Accounts", pdf_of(2), key=12)]
    pdf = await build_pack(COVER, AGENDA, papers)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == len(
        PdfReader(io.BytesIO(render_pack(COVER, AGENDA, papers))).pages
    )


def test_a_damaged_pdf_is_listed_and_the_rest_still_merged() -> None:
    damaged = pdf_of(3)[:400] + b"garbage" * 50
    papers = [paper("Broken", damaged, key=11), paper("Fine", pdf_of(2), key=12)]
    pdf = render_pack(COVER, AGENDA, papers)
    outline = _outline(pdf)
    assert [title for title, _ in outline][1:] == ["1. Welcome: Broken", "2. Budget: Fine"]
    # The damaged paper takes one listing page, the good one its two pages.
    assert outline[2][1] == outline[1][1] + 1
    assert len(PdfReader(io.BytesIO(pdf)).pages) == outline[2][1] + 2
    assert "could not be read" in _text(pdf)
    assert papers[0][0].sha256 in _text(pdf).replace("\n", "")


def test_not_a_pdf_at_all_is_listed() -> None:
    pdf = render_pack(COVER, AGENDA, [paper("Empty", b"%PDF-1.7\n", key=11)])
    assert "could not be read" in _text(pdf)


def test_an_office_document_without_libreoffice_is_listed_with_name_size_and_hash() -> None:
    content = odt()
    papers = [paper("Budget notes", content, ODT, key=12)]
    pdf = render_pack(COVER, AGENDA, papers, converter=None)
    text = _text(pdf).replace("\n", "")
    assert "budget-notes.odt" in text
    assert f"{len(content):,} bytes" in text
    assert papers[0][0].sha256 in text
    assert "(listed, not included)" in text


def test_a_converter_that_fails_leaves_the_paper_listed() -> None:
    papers = [paper("Budget notes", odt(), ODT, key=12)]
    pdf = render_pack(COVER, AGENDA, papers, converter=lambda content, name: None)
    assert "could not be converted" in _text(pdf)


def test_a_converted_office_document_is_merged() -> None:
    papers = [paper("Budget notes", odt(), ODT, key=12)]
    pdf = render_pack(COVER, AGENDA, papers, converter=lambda content, name: pdf_of(4))
    outline = _outline(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == outline[1][1] + 4


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_libreoffice_converts_an_odt() -> None:
    from governance.documents.pack import find_office_converter

    converter = find_office_converter()
    assert converter is not None
    pdf = render_pack(COVER, AGENDA, [paper("Notes", odt("Hello pack"), ODT, key=12)], converter)
    assert "Hello pack" in _text(pdf)


def test_images_are_placed_on_a_page_and_a_damaged_image_is_listed() -> None:
    good = paper("Photo", png(), "image/png", key=11)
    bad = paper("Bad photo", png()[:60], "image/png", key=12)
    pdf = render_pack(COVER, AGENDA, [good, bad])
    reader = PdfReader(io.BytesIO(pdf))
    outline = _outline(pdf)
    photo_page = reader.pages[outline[1][1]]
    assert list(photo_page.images), "the image is drawn on its page"
    assert "The image could not be read" in reader.pages[outline[2][1]].extract_text()


def test_text_papers_are_shown_as_text() -> None:
    pdf = render_pack(COVER, AGENDA, [paper("Notes", b"line one\nline two", "text/plain", 11)])
    assert "line two" in _text(pdf)


def test_a_paper_of_an_item_the_reader_does_not_see_leaves_no_trace() -> None:
    """The Director's view: the Board-only item (key 99) is not in the agenda given."""
    secret = paper("Secret paper", pdf_of(5), key=99)
    shown = [paper("Accounts", pdf_of(2), key=12)]
    with_secret = render_pack(COVER, AGENDA, [*shown, secret])
    without = render_pack(COVER, AGENDA, shown)
    assert len(PdfReader(io.BytesIO(with_secret)).pages) == len(
        PdfReader(io.BytesIO(without)).pages
    )
    assert "Secret" not in _text(with_secret)
    assert cache_key(COVER, AGENDA, [p for p, _ in shown]) == cache_key(
        COVER, AGENDA, [p for p, _ in [*shown, secret]]
    )


def test_the_cache_key_changes_with_anything_shown_and_not_with_item_ids() -> None:
    papers = [paper("Accounts", pdf_of(2), key=12)[0]]
    key = cache_key(COVER, AGENDA, papers)
    renumbered = [PackAgendaLine(line.key + 100, line.title) for line in AGENDA]
    moved = [paper("Accounts", pdf_of(2), key=112)[0]]
    assert cache_key(COVER, renumbered, moved) == key
    assert cache_key(COVER, AGENDA, [paper("Accounts", pdf_of(3), key=12)[0]]) != key
    assert cache_key(COVER, AGENDA[:2], papers) != key
    other_cover = PackCover(**{**COVER.__dict__, "place": "Room 5"})
    assert cache_key(other_cover, AGENDA, papers) != key
