"""Files made from the record: CSV with formula guards, downloads, PDF through WeasyPrint, and
the print stylesheet with the Content-Security-Policy that lets it apply inline."""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import io
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Response

from governance.core.security import CONTENT_SECURITY_POLICY

# Litestar adds "; charset=utf-8" to text types.
CSV_MEDIA_TYPE = "text/csv"
PDF_MEDIA_TYPE = "application/pdf"
# A cell that a spreadsheet would read as a formula is stored as text instead.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Pango and fontconfig are not safe to drive from several threads at once.
_PDF_LOCK = threading.Lock()


def safe_cell(value: Any) -> Any:
    """Guards against spreadsheet formula injection (a title such as `=HYPERLINK(...)`)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    # The byte-order mark lets spreadsheet programs read accented names as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266: the name as is when it is plain ASCII; otherwise an ASCII stand-in in
    `filename` and the real name percent-encoded in `filename*`."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    if fallback == filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment(body: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type=media_type,
        headers={
            "content-disposition": content_disposition(filename),
            "cache-control": "private, no-store",
        },
    )


@functools.cache
def print_stylesheet(path: Path) -> tuple[str, str]:
    """A print stylesheet and the Content-Security-Policy that lets it apply inline."""
    css = path.read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    policy = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", f"style-src 'self' 'sha256-{digest}'"
    )
    return css, policy


def render_pdf(html: str, base_url: str) -> bytes:
    """HTML to PDF with WeasyPrint; blocking, so call `pdf_from_html` from async code."""
    import weasyprint  # Loaded on first use: it pulls in Pango, which only PDFs need.

    # Nothing is fetched: the page is self-contained, and a link in the text must not make
    # the server request anything (only data: URLs are allowed).
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    with _PDF_LOCK:
        document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        pdf = document.write_pdf()
    return bytes(pdf)


async def pdf_from_html(html: str, base_url: str) -> bytes:
    """`render_pdf` in a worker thread, so the event loop keeps serving."""
    return await anyio.to_thread.run_sync(render_pdf, html, base_url)
