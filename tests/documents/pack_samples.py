"""Small papers made on the spot for the pack's tests: PDFs of N pages, a PNG, an ODT."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.generic import Destination

from governance.documents.pack import PackPaper

ODT = "application/vnd.oasis.opendocument.text"


def pdf_of(pages: int, width: float = 595, height: float = 842) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def odt(text: str = "Budget notes") -> bytes:
    """A minimal OpenDocument text, enough for LibreOffice and for a content check."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODT)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/"'
            f' manifest:media-type="{ODT}"/><manifest:file-entry manifest:full-path='
            '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>',
        )
        archive.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
            '"urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:'
            'tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:text>'
            f"<text:p>{text}</text:p></office:text></office:body></office:document-content>",
        )
    return out.getvalue()


def paper(
    title: str, content: bytes, media_type: str = "application/pdf", key: int | None = None
) -> tuple[PackPaper, bytes]:
    suffix = {"application/pdf": "pdf", "image/png": "png", ODT: "odt"}.get(media_type, "txt")
    described = PackPaper(
        title=title,
        file_name=f"{title.lower().replace(' ', '-')}.{suffix}",
        media_type=media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        agenda_key=key,
    )
    return described, content


@dataclass
class FakeUpload:
    """An upload as the documents services take it (Litestar's UploadFile is one)."""

    filename: str
    data: bytes
    offset: int = 0

    async def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.offset + size
        chunk = self.data[self.offset : end]
        self.offset += len(chunk)
        return chunk

    async def seek(self, offset: int) -> int:
        self.offset = offset
        return offset


def outline_of(reader: PdfReader) -> list[Destination]:
    """A pack's bookmarks, which are one level deep: a nested list fails the test."""
    entries = []
    for entry in reader.outline:
        assert isinstance(entry, Destination), f"a nested outline: {entry!r}"
        entries.append(entry)
    return entries
