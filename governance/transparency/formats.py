"""The formats of a transparency report: the printable document and its PDF, CSV and JSON.

Every format is made from a `Rendition`: the presented figures of one edition
(`editions.present`, the only place that suppresses) and the report's facts. The site's
HTML page uses the same macros as the printable document, so all of them show the same
figures.

The SHA-256 of a report is computed over the canonical JSON encoding of its published
document (`editions.document`): what the JSON format carries under "report". Anyone can
check it: take "report", encode it with sorted keys, no spaces and UTF-8, hash it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import Any

import jinja2

from governance.core.exports import csv_bytes, print_stylesheet, render_pdf
from governance.core.templating import TEMPLATE_DIRECTORY, add_template_helpers
from governance.settings import get_settings
from governance.transparency import charts as chart_module
from governance.transparency.editions import (
    Presented,
    document,
    document_hash,
    figure_rows,
)

DOCUMENT_TEMPLATE = "transparency/document.html"
STYLESHEET_PATH = TEMPLATE_DIRECTORY / "transparency" / "document.css"
CSV_HEADER = ("scope", "period", "metric", "line", "value")
JSON_MEDIA_TYPE = "application/json"
FORMATS = ("html", "pdf", "csv", "json")
HASH_NOTE = (
    "sha256 is the SHA-256 of the canonical JSON encoding of `report` "
    "(keys sorted, no spaces, UTF-8)."
)
AUDIT_HEAD_KEY = "audit_chain_head"
OK = "ok"
MISMATCH = "mismatch"


@dataclass(frozen=True)
class AuditHead:
    """The audit chain's newest event when a report was published. The public edition
    carries its hash only: the sequence counts every event, Board-only ones too."""

    sequence: int
    hash: str

    def entry(self, edition: str) -> dict[str, Any]:
        if edition == "public":
            return {"hash": self.hash}
        return {"sequence": self.sequence, "hash": self.hash}


def published_document(
    presented: Presented,
    *,
    version: int = 1,
    supersedes_version: int | None = None,
    narrative: str = "",
    audit_head: AuditHead | None = None,
) -> dict[str, Any]:
    """The document a report is published as (and hashed over): the edition's document,
    with the audit chain's head at publication once one was recorded."""
    doc = document(
        presented, version=version, supersedes_version=supersedes_version, narrative=narrative
    )
    if audit_head is not None:
        doc[AUDIT_HEAD_KEY] = audit_head.entry(presented.edition)
    return doc


@dataclass
class ReportFacts:
    """What a report is beyond its figures. A report built by the CLI has no id."""

    report_id: int | None = None
    status: str = "built"  # draft, approved, published; "built" when not stored
    version: int = 1
    supersedes_version: int | None = None
    superseded_by_version: int | None = None
    narrative: str = ""
    stored_hash: str = ""  # set once published
    approved_at: dt.datetime | None = None
    approved_by_name: str = ""
    published_at: dt.datetime | None = None
    published_by_name: str = ""
    audit_head: AuditHead | None = None  # recorded at publication


@dataclass
class Rendition:
    presented: Presented
    facts: ReportFacts
    document: dict[str, Any]
    computed_hash: str

    @property
    def sha256(self) -> str:
        """The frozen hash once published; the hash of the current content before."""
        return self.facts.stored_hash or self.computed_hash

    @property
    def is_published(self) -> bool:
        return self.facts.status == "published"

    @property
    def integrity(self) -> str | None:
        """Once published: "ok" while the stored content still has the frozen hash,
        "mismatch" once it does not (changed behind the service's back); else None."""
        if not self.is_published:
            return None
        return OK if self.computed_hash == self.facts.stored_hash else MISMATCH

    @property
    def audit_head_entry(self) -> dict[str, Any] | None:
        """The audit chain's head as this edition shows it, if recorded at publication."""
        head = self.document.get(AUDIT_HEAD_KEY)
        return head if isinstance(head, dict) else None

    @property
    def public(self) -> bool:
        return self.presented.edition == "public"

    def filename(self, extension: str) -> str:
        version = f"-v{self.facts.version}" if self.facts.version > 1 else ""
        return (
            f"transparency-{self.presented.scope}-{self.presented.period_label}-"
            f"{self.presented.edition}{version}.{extension}"
        )


def rendition(presented: Presented, facts: ReportFacts) -> Rendition:
    doc = published_document(
        presented,
        version=facts.version,
        supersedes_version=facts.supersedes_version,
        narrative=facts.narrative,
        audit_head=facts.audit_head,
    )
    return Rendition(presented, facts, doc, document_hash(doc))


# --- the printable document and its PDF -------------------------------------------------


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIRECTORY),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    add_template_helpers(environment)
    environment.globals["service_name"] = "Governance"
    environment.globals["organisation_timezone"] = get_settings().timezone
    return environment


def stylesheet() -> tuple[str, str]:
    """The document's stylesheet and the Content-Security-Policy that lets it apply inline."""
    return print_stylesheet(STYLESHEET_PATH)


def document_html(item: Rendition, *, for_print: bool = True) -> str:
    """The self-contained document the PDF is made from: inline stylesheet, charts as data:
    URIs, the hash in the text and in every page's footer."""
    css, _ = stylesheet()
    charts = chart_module.charts(item.presented)
    template = _environment().get_template(DOCUMENT_TEMPLATE)
    return template.render(
        item=item,
        presented=item.presented,
        facts=item.facts,
        charts=charts,
        chart_sources={chart.name: chart.data_uri() for chart in charts},
        stylesheet=css,
        for_print=for_print,
    )


# --- CSV and JSON -----------------------------------------------------------------------


def csv_content(item: Rendition) -> bytes:
    """One figure per row: scope, period, metric, line, value (a suppressed value is in
    words; a figure with nothing to measure is empty)."""
    rows = [
        [row.scope, row.period, row.metric, row.line, "" if row.value is None else row.value]
        for row in figure_rows(item.presented)
    ]
    return csv_bytes(CSV_HEADER, rows)


def json_document(item: Rendition) -> dict[str, Any]:
    return {
        "id": item.facts.report_id,
        "status": item.facts.status,
        "published_at": item.facts.published_at.isoformat() if item.facts.published_at else None,
        "superseded_by_version": item.facts.superseded_by_version,
        "report": item.document,
        "sha256": item.sha256,
        "sha256_note": HASH_NOTE,
        "integrity": item.integrity,
    }


def json_content(item: Rendition) -> bytes:
    return json.dumps(json_document(item), ensure_ascii=False, indent=2).encode("utf-8")


def verify(doc: dict[str, Any], sha256: str) -> bool:
    """Whether a report document (the JSON's "report") has this SHA-256."""
    return document_hash(doc) == sha256


def render(item: Rendition, format_name: str, base_url: str = "http://localhost/") -> bytes:
    """Any format as bytes (the CLI's entry point; pages use the pieces above)."""
    if format_name == "html":
        return document_html(item).encode("utf-8")
    if format_name == "pdf":
        return render_pdf(document_html(item), base_url)
    if format_name == "csv":
        return csv_content(item)
    if format_name == "json":
        return json_content(item)
    raise ValueError(f"unknown format {format_name!r}")
