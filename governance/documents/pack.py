"""The meeting pack as one PDF: a pure builder, with no database and no HTTP.

What goes in is what one reader may see (the cover, the agenda lines as that reader sees
them, the papers that reader may read, with their contents); what comes out is one PDF: the
cover and agenda page(s), then each paper in agenda order, each with its own bookmark.
Nothing in the output depends on anything but these inputs, so two readers who see the same
thing get the same pages, and a reader who may not see an item gets no trace of it (the
agenda is numbered among the lines given, never by stored positions).

A paper that cannot be placed (a damaged PDF, an office document with no LibreOffice on the
machine, an unknown type) is listed on a page of its own with its name, size and SHA-256,
so a bad file never breaks the pack.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio
from pypdf import PdfReader, PdfWriter

from governance.core.exports import render_pdf

PDF = "application/pdf"
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
TEXT_TYPES = frozenset({"text/plain", "text/csv", "text/markdown"})
# ODF and OOXML documents, spreadsheets and presentations: what LibreOffice converts.
OFFICE_PREFIXES = ("application/vnd.oasis.opendocument.", "application/vnd.openxmlformats-")
# A text paper is shown up to this many characters; the rest is in the original file.
TEXT_SHOWN_CHARS = 200_000
# LibreOffice may hang on a hostile file; the pack then lists it instead of waiting.
CONVERSION_TIMEOUT_SECONDS = 120
# Bumped whenever the builder's output changes, so cached packs are rebuilt.
BUILDER_VERSION = "1"

Converter = Callable[[bytes, str], bytes | None]


@dataclass(frozen=True)
class PackCover:
    group_name: str
    meeting_title: str
    # Already written in the organisation's time zone, with its name, e.g.
    # "Thursday 3 December 2026, 10:00 to 12:00 (Europe/London)".
    when: str
    place: str


@dataclass(frozen=True)
class PackAgendaLine:
    """One agenda item as this reader sees it; `key` ties papers to it (the item's id)."""

    key: int
    title: str


@dataclass(frozen=True)
class PackPaper:
    title: str
    file_name: str
    media_type: str
    size: int
    sha256: str
    # The agenda line's key it belongs to, or None for a paper of the whole meeting.
    agenda_key: int | None


@dataclass(frozen=True)
class _Placed:
    """One paper's pages ready to merge, or None with the reason it is listed instead."""

    pdf: bytes | None
    reason: str


def cache_key(
    cover: PackCover, agenda: Sequence[PackAgendaLine], papers: Sequence[PackPaper]
) -> str:
    """SHA-256 over everything the pack is made of (contents by their hashes), so two
    readers who see the same thing share a pack and any change makes a new one. Agenda keys
    are replaced by positions so the key never carries an id of its own."""
    index = {line.key: number for number, line in enumerate(agenda, start=1)}
    described = {
        "builder": BUILDER_VERSION,
        "cover": asdict(cover),
        "agenda": [line.title for line in agenda],
        "papers": [
            {**asdict(paper), "agenda_key": index.get(paper.agenda_key or 0)}
            for paper in ordered_papers(agenda, papers)
        ],
    }
    encoded = json.dumps(described, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def ordered_papers(
    agenda: Sequence[PackAgendaLine], papers: Sequence[PackPaper]
) -> list[PackPaper]:
    """The meeting's own papers first (as the meeting page lists them), then each agenda
    item's in agenda order; a paper of an item not in `agenda` (one this reader may not
    see) is dropped. Papers of one item keep the order given."""
    order = {line.key: number for number, line in enumerate(agenda)}
    kept = [p for p in papers if p.agenda_key is None or p.agenda_key in order]
    return sorted(kept, key=lambda p: -1 if p.agenda_key is None else order[p.agenda_key])


def find_office_converter() -> Converter | None:
    """LibreOffice headless when it is installed, else None (office papers are listed)."""
    program = shutil.which("soffice") or shutil.which("libreoffice")
    if program is None:
        return None

    def convert(content: bytes, file_name: str) -> bytes | None:
        return _convert_with_libreoffice(program, content, file_name)

    return convert


def _convert_with_libreoffice(program: str, content: bytes, file_name: str) -> bytes | None:
    suffix = Path(file_name).suffix.lower()
    if not suffix[1:].isalnum():
        suffix = ""
    with tempfile.TemporaryDirectory(prefix="governance-pack-") as work:
        source = Path(work) / f"paper{suffix}"
        source.write_bytes(content)
        # A profile of its own: two conversions at once must not share (and lock) one.
        profile = Path(work, "profile").as_uri()
        command = [
            program,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            work,
            str(source),
        ]
        try:
            subprocess.run(  # noqa: S603 - a fixed program and arguments, no shell
                command,
                check=True,
                capture_output=True,
                timeout=CONVERSION_TIMEOUT_SECONDS,
                env={**os.environ, "HOME": work},
            )
        except (subprocess.SubprocessError, OSError):
            return None
        converted = Path(work) / "paper.pdf"
        return converted.read_bytes() if converted.is_file() else None


def render_pack(
    cover: PackCover,
    agenda: Sequence[PackAgendaLine],
    papers: Sequence[tuple[PackPaper, bytes]],
    converter: Converter | None = None,
) -> bytes:
    """The pack's PDF; blocking and CPU-heavy, so call `build_pack` from async code."""
    contents = {id(paper): content for paper, content in papers}
    ordered = ordered_papers(agenda, [paper for paper, _ in papers])
    placed = [_place(paper, contents[id(paper)], converter) for paper in ordered]
    front = render_pdf(_front_html(cover, agenda, ordered, placed), base_url="about:blank")
    writer = PdfWriter()
    # The papers' own outlines (and WeasyPrint's headings) are left out: one bookmark a paper.
    writer.append(PdfReader(io.BytesIO(front)), import_outline=False)
    writer.add_outline_item(title="Cover and agenda", page_number=0)
    for paper, piece in zip(ordered, placed, strict=True):
        start = len(writer.pages)
        pages = piece.pdf or render_pdf(_listed_html(paper, piece.reason), "about:blank")
        writer.append(PdfReader(io.BytesIO(pages)), import_outline=False)
        writer.add_outline_item(title=_bookmark(agenda, paper), page_number=start)
    writer.add_metadata({"/Title": f"{cover.group_name}: {cover.meeting_title}"})
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def build_pack(
    cover: PackCover,
    agenda: Sequence[PackAgendaLine],
    papers: Sequence[tuple[PackPaper, bytes]],
    converter: Converter | None = None,
) -> bytes:
    """`render_pack` in a worker thread, so the event loop keeps serving."""
    return await anyio.to_thread.run_sync(render_pack, cover, agenda, papers, converter)


def _bookmark(agenda: Sequence[PackAgendaLine], paper: PackPaper) -> str:
    for number, line in enumerate(agenda, start=1):
        if line.key == paper.agenda_key:
            return f"{number}. {line.title}: {paper.title}"
    return paper.title


def _place(paper: PackPaper, content: bytes, converter: Converter | None) -> _Placed:
    """The paper as PDF pages, or why it is listed instead."""
    if paper.media_type == PDF:
        return _checked_pdf(content, "The file could not be read as a PDF.")
    if paper.media_type in IMAGE_TYPES:
        return _image_pdf(paper, content)
    if paper.media_type in TEXT_TYPES:
        return _Placed(render_pdf(_text_html(paper, content), "about:blank"), "")
    if paper.media_type.startswith(OFFICE_PREFIXES):
        if converter is None:
            return _Placed(None, "Office documents are not converted on this server.")
        converted = converter(content, paper.file_name)
        if converted is None:
            return _Placed(None, "The document could not be converted to PDF.")
        return _checked_pdf(converted, "The converted document could not be read.")
    return _Placed(None, "This type of file is not shown in the pack.")


def _checked_pdf(content: bytes, reason: str) -> _Placed:
    """The PDF rewritten on its own first: a file that pypdf cannot read to the end is
    found here, before it could leave half its pages in the pack."""
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            return _Placed(None, "The PDF is protected by a password.")
        single = PdfWriter()
        for page in reader.pages:
            single.add_page(page)
        if not single.pages:
            return _Placed(None, reason)
        out = io.BytesIO()
        single.write(out)
        _ = PdfReader(io.BytesIO(out.getvalue())).pages[0]  # what was written reads back
    except Exception:  # any damage means "list it", never a broken pack
        return _Placed(None, reason)
    return _Placed(out.getvalue(), "")


def _image_pdf(paper: PackPaper, content: bytes) -> _Placed:
    from PIL import Image  # WeasyPrint's own dependency; only images need it.

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except Exception:
        return _Placed(None, "The image could not be read.")
    import base64

    data = base64.b64encode(content).decode("ascii")
    body = (
        f"<h1>{html.escape(paper.title)}</h1>"
        f'<img alt="" src="data:{paper.media_type};base64,{data}">'
    )
    return _Placed(render_pdf(_page(body), "about:blank"), "")


_STYLE = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: sans-serif; font-size: 10.5pt; color: #111; }
h1 { font-size: 16pt; margin: 0 0 6mm; }
h2 { font-size: 13pt; margin: 8mm 0 3mm; }
.cover { page-break-after: always; padding-top: 60mm; }
.cover h1 { font-size: 24pt; }
.cover p { font-size: 13pt; margin: 2mm 0; }
ol.agenda > li { margin: 0 0 3mm; }
ul.papers { margin: 1mm 0 0; color: #333; }
dl dt { font-weight: bold; margin-top: 3mm; }
dl dd { margin: 0; word-break: break-all; }
pre { font-size: 8.5pt; white-space: pre-wrap; word-break: break-all; }
img { max-width: 100%; max-height: 230mm; }
"""


def _page(body: str) -> str:
    return f"<!doctype html><html><head><style>{_STYLE}</style></head><body>{body}</body></html>"


def _front_html(
    cover: PackCover,
    agenda: Sequence[PackAgendaLine],
    papers: Sequence[PackPaper],
    placed: Sequence[_Placed],
) -> str:
    e = html.escape
    listed = {id(p) for p, piece in zip(papers, placed, strict=True) if piece.pdf is None}

    def titles(key: int | None) -> str:
        names = [
            e(p.title) + (" (listed, not included)" if id(p) in listed else "")
            for p in papers
            if p.agenda_key == key
        ]
        items = "".join(f"<li>{name}</li>" for name in names)
        return f'<ul class="papers">{items}</ul>' if items else ""

    lines = "".join(f"<li>{e(line.title)}{titles(line.key)}</li>" for line in agenda)
    general = titles(None)
    return _page(
        f'<section class="cover"><p>{e(cover.group_name)}</p><h1>{e(cover.meeting_title)}</h1>'
        f"<p>{e(cover.when)}</p><p>{e(cover.place)}</p></section>"
        "<h1>Agenda</h1>"
        + (f'<ol class="agenda">{lines}</ol>' if lines else "<p>No agenda items.</p>")
        + (f"<h2>Papers for the whole meeting</h2>{general}" if general else "")
    )


def _listed_html(paper: PackPaper, reason: str) -> str:
    e = html.escape
    return _page(
        f"<h1>{e(paper.title)}</h1><p>{e(reason)} The original file is with the meeting's "
        "papers.</p><dl>"
        f"<dt>File name</dt><dd>{e(paper.file_name)}</dd>"
        f"<dt>Type</dt><dd>{e(paper.media_type)}</dd>"
        f"<dt>Size</dt><dd>{paper.size:,} bytes</dd>"
        f"<dt>SHA-256</dt><dd>{e(paper.sha256)}</dd></dl>"
    )


def _text_html(paper: PackPaper, content: bytes) -> str:
    text = content.decode("utf-8", errors="replace")
    more = ""
    if len(text) > TEXT_SHOWN_CHARS:
        text = text[:TEXT_SHOWN_CHARS]
        more = "<p>The text continues in the original file.</p>"
    return _page(f"<h1>{html.escape(paper.title)}</h1><pre>{html.escape(text)}</pre>{more}")
