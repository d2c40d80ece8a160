"""Files for the documents tests, made here: a PDF, an ODT, a DOCX, a PNG, text, and
things that must be refused (an executable renamed .pdf, an ELF binary, binary junk)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def pdf(text: str = "Paper", pages: int = 1) -> bytes:
    """A small valid PDF (WeasyPrint)."""
    from weasyprint import HTML

    body = "".join(f"<p style='page-break-after: always'>{text} {n}</p>" for n in range(pages))
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def odt(text: str = "Minutes annex") -> bytes:
    """An OpenDocument text, as LibreOffice writes one: `mimetype` first, stored."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.text",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            f"<office:body><office:text><text:p>{text}</text:p></office:text></office:body>"
            "</office:document-content>",
        )
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return buffer.getvalue()


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def windows_executable() -> bytes:
    """The start of a Windows executable (MZ ... PE)."""
    head = bytearray(b"MZ" + b"\x90\x00" * 29 + b"\x80\x00\x00\x00")
    head += b"\x00" * (0x80 - len(head)) + b"PE\x00\x00" + b"\x00" * 200
    return bytes(head)


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 300


def binary_junk() -> bytes:
    return bytes(range(256)) * 10


class MemoryUpload:
    """A file as an upload (what Litestar's UploadFile offers a service), from bytes."""

    def __init__(self, filename: str, content: bytes) -> None:
        self.filename = filename
        self._buffer = io.BytesIO(content)

    async def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)

    async def seek(self, offset: int) -> int:
        return self._buffer.seek(offset)
