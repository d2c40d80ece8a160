"""A document's content: checked while it is read, stored once per SHA-256, read in chunks.

An upload is read twice, a chunk at a time, and never held whole in memory: first to learn
its type (from its first bytes), size and SHA-256, refusing it as soon as it breaks a rule
(over the size limit, a type not allowed, text that is not UTF-8), then, inside the
transaction that records the document, into `DocumentBlob` rows, unless a content with
that SHA-256 is already stored, which the new document then shares.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import unicodedata
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import Protocol

import filetype

from governance.core.clock import utcnow
from governance.documents.schemas import (
    ALLOWED_DESCRIPTION,
    ALLOWED_SIGNATURES,
    CHUNK_SIZE,
    FILE_NAME_MAX_LENGTH,
    SIGNATURE_BYTES,
    TEXT,
    TEXT_SUBTYPES,
    TEXT_SUBTYPES_ALSO,
    ScannedFile,
    human_size,
)
from governance.documents.tables import DocumentBlob, DocumentContent


class UploadedFile(Protocol):
    """A file as a form or the API received it (Litestar's UploadFile is one)."""

    filename: str

    async def read(self, size: int = -1) -> bytes: ...

    async def seek(self, offset: int) -> int: ...


class BytesUpload:
    """A file made by the application (a snapshot of figures) handed to the documents
    services as the upload they expect, so that it is checked and stored like any other."""

    def __init__(self, filename: str, data: bytes) -> None:
        self.filename = filename
        self._stream = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    async def seek(self, offset: int) -> int:
        return self._stream.seek(offset)


class Refused(Exception):
    """A file that breaks a rule; the message says which, naming the file."""


def name_error(name: str) -> str | None:
    """Why a file's name cannot be kept, if it cannot: a name, not a path."""
    if not name or not name.strip():
        return "The file has no name."
    if len(name) > FILE_NAME_MAX_LENGTH:
        return f"A file's name must be at most {FILE_NAME_MAX_LENGTH} characters."
    if "/" in name or "\\" in name:
        return "A file's name must not contain a path separator (/ or \\)."
    if any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in name):
        return "A file's name must not contain control or invisible formatting characters."
    if name.strip(" .") == "":
        return "A file's name must not be only dots and spaces."
    return None


def _text_type(file_name: str) -> str:
    suffix = PurePosixPath(file_name).suffix.lower()
    return TEXT_SUBTYPES.get(suffix) or TEXT_SUBTYPES_ALSO.get(suffix) or TEXT


class _Scan:
    """The running state of reading one upload."""

    def __init__(self, file_name: str, limit: int) -> None:
        self.file_name, self.limit = file_name, limit
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.signature: str | None = None
        self.decoder: codecs.IncrementalDecoder | None = None

    def refuse(self, reason: str) -> Refused:
        return Refused(f"{self.file_name}: {reason}")

    @property
    def recognised(self) -> bool:
        return self.signature is not None or self.decoder is not None

    def take(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise self.refuse(f"the file is larger than the limit of {human_size(self.limit)}.")
        self.digest.update(chunk)
        if not self.recognised:
            self.head += chunk
            if len(self.head) < SIGNATURE_BYTES:
                return
            self._recognise()
            chunk, self.head = self.head, b""
        if self.decoder is not None:
            self._check_text(chunk, final=False)

    def _recognise(self) -> None:
        kind = filetype.guess(self.head[:SIGNATURE_BYTES])
        if kind is None:
            self.decoder = codecs.getincrementaldecoder("utf-8")()
            return
        if kind.mime not in ALLOWED_SIGNATURES:
            raise self.refuse(
                f"files of this type ({kind.mime}) are not accepted; upload {ALLOWED_DESCRIPTION}."
            )
        self.signature = kind.mime

    def _check_text(self, chunk: bytes, *, final: bool) -> None:
        assert self.decoder is not None
        try:
            text = self.decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text:
            raise self.refuse(
                f"the file's content is not of a type accepted; upload {ALLOWED_DESCRIPTION}."
            )

    def finish(self) -> ScannedFile:
        if self.size == 0:
            raise self.refuse("the file is empty.")
        if not self.recognised:
            # Shorter than the signature's length: recognised from what there is.
            self._recognise()
            if self.decoder is not None:
                self._check_text(self.head, final=False)
        if self.decoder is not None:
            self._check_text(b"", final=True)
        media_type = self.signature or _text_type(self.file_name)
        return ScannedFile(
            file_name=self.file_name,
            media_type=media_type,
            size=self.size,
            sha256=self.digest.hexdigest(),
        )


async def scan(upload: UploadedFile, limit: int) -> ScannedFile:
    """Reads the upload a chunk at a time and says what it is; Refused at the first rule
    it breaks, having read no further."""
    file_name = upload.filename or ""
    problem = name_error(file_name)
    if problem:
        raise Refused(f"{file_name or 'A file'}: {problem}" if file_name.strip() else problem)
    await upload.seek(0)
    state = _Scan(file_name, limit)
    while chunk := await upload.read(CHUNK_SIZE):
        state.take(chunk)
    return state.finish()


async def content_is_stored(sha256: str) -> bool:
    return bool(await DocumentContent.exists().where(DocumentContent.sha256 == sha256))


async def store(upload: UploadedFile, scanned: ScannedFile) -> None:
    """Stores the upload's content, unless that SHA-256 is stored already. Call inside the
    write transaction that records the document. An upload that changed since it was
    scanned is refused."""
    if await content_is_stored(scanned.sha256):
        return
    await upload.seek(0)
    digest, index, size = hashlib.sha256(), 0, 0
    while chunk := await upload.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
        await DocumentBlob.insert(
            DocumentBlob(sha256=scanned.sha256, chunk_index=index, data=chunk)
        ).on_conflict(action="DO NOTHING")
        index += 1
    if digest.hexdigest() != scanned.sha256 or size != scanned.size:
        raise Refused(f"{scanned.file_name}: the file changed while it was being read.")
    await DocumentContent.insert(
        DocumentContent(sha256=scanned.sha256, size=size, chunk_count=index, created_at=utcnow())
    ).on_conflict(action="DO NOTHING")


async def read_content(sha256: str) -> AsyncIterator[bytes]:
    """The stored content with this SHA-256, one chunk (at most 1 MiB) at a time: one
    query per chunk, so a download never holds the whole file. Nothing for an unknown one."""
    content = (
        await DocumentContent.select(DocumentContent.chunk_count)
        .where(DocumentContent.sha256 == sha256)
        .first()
    )
    if content is None:
        return
    for index in range(int(content["chunk_count"])):
        row = (
            await DocumentBlob.select(DocumentBlob.data)
            .where((DocumentBlob.sha256 == sha256) & (DocumentBlob.chunk_index == index))
            .first()
        )
        if row is None:
            return
        yield bytes(row["data"])
