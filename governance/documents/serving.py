"""How a document's content leaves the service: streamed a chunk at a time, as an
attachment with its original name (RFC 6266 `filename*`), never sniffed, and under a
policy that lets it run nothing: a file is shown only as itself."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from litestar.response import Stream

from governance.documents import queries
from governance.documents.schemas import DocumentView

# The policy of a served file: it loads nothing and runs nothing (a sandboxed origin).
CONTENT_POLICY = "default-src 'none'; sandbox"
# Shown inline in the document page's frame: the same, framed only by the service itself.
INLINE_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"
)


def _ascii_fallback(name: str) -> str:
    """The name for clients that do not read `filename*`: ASCII letters kept, accents
    dropped, anything else (quotes, backslashes, other scripts) as "_"."""
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(
        c if c.isascii() and c.isprintable() and c not in {'"', "\\"} else "_"
        for c in decomposed
        if not unicodedata.combining(c)
    )
    return kept or "document"


def content_disposition(disposition: str, file_name: str) -> str:
    """`attachment` (or `inline`) with the original name, both ways RFC 6266 allows."""
    return (
        f'{disposition}; filename="{_ascii_fallback(file_name)}"; '
        f"filename*=UTF-8''{quote(file_name, safe='')}"
    )


def _headers(document: DocumentView, disposition: str, policy: str) -> dict[str, str]:
    headers = {
        "content-disposition": content_disposition(disposition, document.file_name),
        "content-length": str(document.size),
        "x-content-type-options": "nosniff",
        "content-security-policy": policy,
        "etag": f'"{document.sha256}"',
    }
    if disposition == "inline":
        headers["x-frame-options"] = "SAMEORIGIN"
    return headers


def download(document: DocumentView) -> Stream:
    """The document as an attachment, streamed from the database a chunk at a time."""
    return Stream(
        queries.read_content(document.sha256),
        media_type=document.media_type,
        headers=_headers(document, "attachment", CONTENT_POLICY),
    )


def inline(document: DocumentView) -> Stream:
    """A PDF or an image, for the sandboxed frame of the document page."""
    return Stream(
        queries.read_content(document.sha256),
        media_type=document.media_type,
        headers=_headers(document, "inline", INLINE_POLICY),
    )
