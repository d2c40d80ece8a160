"""The contracts of documents (papers and annexes): commands in, views out, every limit.

A document is held by a meeting (its papers), an agenda item, minutes (annexes), a report
(annexes) or a written resolution (its papers). Its type is read from its content, never
from its name: an allow-list of media types recognised by their signatures (`filetype`),
and plain text (UTF-8 without NUL characters), whose subtype (CSV, Markdown) is then taken
from the name's extension, as the three are served alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

import msgspec

from governance.accounts.policy import VISIBILITIES
from governance.core import contracts
from governance.settings import get_settings

MIB = 1024 * 1024
# The size of one stored chunk of a content, and of one read of an upload or a download.
CHUNK_SIZE = MIB
# How much of the start of a file its type is recognised from (filetype reads 8 KiB; an
# office document's parts are named within its first few kilobytes).
SIGNATURE_BYTES = 8192
# Files one form post or API call may carry.
MAX_FILES_PER_POST = 10
TITLE_MAX_LENGTH = 300
FILE_NAME_MAX_LENGTH = 255
# Room for a multipart body's boundaries and its other fields, above its files.
FORM_OVERHEAD_BYTES = MIB


def max_upload_bytes() -> int:
    """The largest file one upload may be (GOVERNANCE_MAX_UPLOAD_MB, default 25 MiB)."""
    return get_settings().max_upload_mb * MIB


def upload_body_limit() -> int:
    """The largest request body an upload route reads (Litestar's default is 10 MB):
    as many files of the largest size as a post may carry. Each file's own limit is
    checked while it is read, so an oversized file is refused before it is stored."""
    return max_upload_bytes() * MAX_FILES_PER_POST + FORM_OVERHEAD_BYTES


class HolderKind(StrEnum):
    MEETING = "meeting"
    AGENDA_ITEM = "agenda_item"
    MINUTES = "minutes"
    REPORT = "report"
    RESOLUTION = "resolution"


HOLDER_KINDS: tuple[str, ...] = tuple(HolderKind)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
# Media types allowed, as filetype names them from the content, with a short label.
ALLOWED_SIGNATURES: Mapping[str, str] = {
    PDF: "PDF",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel spreadsheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "PowerPoint presentation"
    ),
    PNG: "PNG image",
    JPEG: "JPEG image",
}
# Text files: the subtype by extension (the content is checked to be text either way).
TEXT_SUBTYPES: Mapping[str, str] = {".csv": "text/csv", ".md": "text/markdown"}
TEXT_SUBTYPES_ALSO: Mapping[str, str] = {".markdown": "text/markdown"}
TEXT_LABELS: Mapping[str, str] = {
    TEXT: "Text",
    "text/csv": "CSV",
    "text/markdown": "Markdown",
}
# Shown in a sandboxed frame on the document page; everything else is downloaded only.
INLINE_TYPES = frozenset({PDF, PNG, JPEG})
ALLOWED_DESCRIPTION = (
    "PDF, OpenDocument (odt, ods, odp), Office Open XML (docx, xlsx, pptx), plain text, "
    "CSV, Markdown, PNG or JPEG"
)

# The answers' messages.
NO_SUCH_DOCUMENT = "There is no document at this address."
NEEDS_CORRECTING = "The upload needs correcting. Nothing has been saved."
NOT_A_MANAGER = "Only the group's chair or secretary can add, replace or withdraw papers."
FROZEN = {
    HolderKind.MEETING: "The meeting's minutes are approved: its papers can no longer change.",
    HolderKind.AGENDA_ITEM: "The meeting's minutes are approved: its papers can no longer change.",
    HolderKind.MINUTES: "The minutes are approved: their annexes can no longer change.",
    HolderKind.REPORT: "The report has been submitted: its annexes can no longer change.",
    HolderKind.RESOLUTION: "Voting on the resolution has ended: its papers can no longer change.",
}
ALREADY_WITHDRAWN = "This paper has already been withdrawn."

Title = Annotated[
    str,
    contracts.text(
        "Title",
        max_length=TITLE_MAX_LENGTH,
        required=False,
        description="The paper's title; the file's name when left empty",
    ),
]
VisibilityChoice = Annotated[
    str,
    contracts.choice(
        "Visibility",
        VISIBILITIES,
        description="Who may read the paper: at most those who may read what holds it",
    ),
]


class NewDocuments(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The fields of an upload of one or more files (the files travel beside them)."""

    title: Title = ""
    visibility: VisibilityChoice = "internal"
    # A meeting's paper may belong to one of its agenda items.
    agenda_item_id: contracts.RowIdValue | None = None


class NewVersion(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Title = ""


class ScannedFile(msgspec.Struct, kw_only=True, frozen=True):
    """What reading an upload found: its name, type by content, size and SHA-256."""

    file_name: str
    media_type: str
    size: int
    sha256: str


class DocumentView(msgspec.Struct, kw_only=True):
    id: int
    series: int
    version: int
    title: str
    file_name: str
    media_type: str
    size: int
    sha256: str
    visibility: str
    group_id: int
    holder_kind: str
    holder_id: int
    meeting_id: int | None
    agenda_item_id: int | None
    report_id: int | None
    resolution_id: int | None
    added_by: str
    added_at: dt.datetime
    withdrawn_at: dt.datetime | None
    content_url: str

    @property
    def shows_inline(self) -> bool:
        return self.media_type in INLINE_TYPES

    @property
    def type_label(self) -> str:
        return ALLOWED_SIGNATURES.get(self.media_type) or TEXT_LABELS.get(self.media_type, "")


class DocumentPage(msgspec.Struct, kw_only=True):
    """A document with every version of its paper, newest first."""

    document: DocumentView
    versions: list[DocumentView]
    holder_title: str
    holder_url: str
    can_manage: bool
    frozen: bool


class PaperForPack(msgspec.Struct, kw_only=True):
    """The current version of one paper of a meeting, as a meeting pack lists it."""

    document_id: int
    title: str
    file_name: str
    media_type: str
    size: int
    sha256: str
    visibility: str
    # The agenda item's number among the items this reader reads (None: the meeting's own).
    agenda_position: int | None
    agenda_title: str | None


class Upload(msgspec.Struct, kw_only=True):
    """The answer to an upload: the documents it created."""

    documents: list[DocumentView]


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < MIB:
        return f"{size / 1024:.0f} KiB"
    return f"{size / MIB:.1f} MiB"
