"""JSON routes for transparency reports (DESIGN.md §8), with the same rules as the pages.

Reading needs no sign-in for published public editions, exactly like /transparency; any
other report asked for without credentials is 401, and one the caller may not read is 404,
the same as one that does not exist (the Director never learns of a board edition). A
report's figures are always those of its edition, suppression applied
(`editions.present`): the "report" member is the published document whose SHA-256 the
report carries.

Bodies are msgspec Structs: a body of the wrong shape is answered 400 before a handler
runs; values of the right type that break a rule are 422 with the field errors. A
published report never changes: refreshing it, changing its narrative, approving or
publishing it again is 409.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody, PathParameter, QueryParameter

from governance.accounts.auth import current_user, signed_in
from governance.accounts.policy import Viewer
from governance.core.errors import InvalidInput, NotFoundError
from governance.core.forms import FormReader
from governance.core.http import MAX_ROW_ID
from governance.groups.queries import load_viewer
from governance.transparency import services
from governance.transparency.figures import EDITIONS
from governance.transparency.forms import read_generate

TransparencyId = Annotated[
    int,
    PathParameter(ge=1, le=MAX_ROW_ID, description="The report's id", title="Report id"),
]


def _choice(values: tuple[str, ...], description: str) -> msgspec.Meta:
    return msgspec.Meta(
        extra_json_schema={"description": description, "extra": {"enum": list(values)}}
    )


Edition = Annotated[
    str,
    _choice(
        EDITIONS,
        "board: everything the Board may read; public: public and internal records only, "
        "counts drawn from fewer than 5 people or items shown as 'fewer than 5'",
    ),
]


ScopeFilter = Annotated[
    str | None,
    # `scope` cannot name a handler's argument in Litestar; the query keeps the name.
    QueryParameter(name="scope", description="A group's short name, or organisation"),
]
PeriodFilter = Annotated[str | None, QueryParameter(description="A quarter (2026-Q3) or a year")]
EditionFilter = Annotated[
    str | None,
    QueryParameter(description="board or public", schema_extra={"enum": list(EDITIONS)}),
]
StatusFilter = Annotated[
    str | None,
    QueryParameter(
        # `status` cannot name a handler's argument in Litestar; the query keeps the name.
        name="status",
        description="draft, approved or published",
        schema_extra={"enum": list(services.STATUSES)},
    ),
]


class GenerateIn(msgspec.Struct, forbid_unknown_fields=True):
    """Generate a draft of a period, or refresh the period's unpublished draft, or (when
    the period's report is published) make its next version. `scope` is a group's short
    name or "organisation"; `period` a quarter (2026-Q3) or a year (2026)."""

    scope: str
    period: str
    edition: Edition


class NarrativeIn(msgspec.Struct, forbid_unknown_fields=True):
    """The narrative, in Markdown (sanitised when shown). Changing an approved report's
    narrative withdraws its approval."""

    narrative: str


@dataclass
class LinksOut:
    html: str
    pdf: str
    csv: str
    json: str


@dataclass
class TransparencyReportOut:
    id: int
    scope: str
    scope_name: str
    period: str
    edition: str
    version: int
    status: str
    supersedes: int | None
    generated_at: dt.datetime
    approved_at: dt.datetime | None
    published_at: dt.datetime | None
    sha256: str | None  # set once published
    readable: bool  # False only for a report its maker may not read (an admin's board edition)
    links: LinksOut
    supersedes_version: int | None = None
    superseded_by_version: int | None = None
    report: dict[str, Any] | None = None  # the published document; absent in lists


@dataclass
class TransparencyListOut:
    reports: list[TransparencyReportOut]


def _links(report_id: int) -> LinksOut:
    base = f"/transparency/reports/{report_id}"
    return LinksOut(html=base, pdf=f"{base}/pdf", csv=f"{base}/csv", json=f"{base}/json")


def _summary(row: dict[str, Any], readable: bool = True) -> TransparencyReportOut:
    return TransparencyReportOut(
        id=row["id"],
        scope=row["scope"],
        scope_name=row["scope_name"],
        period=row["period"],
        edition=row["edition"],
        version=row["version"],
        status=row["status"],
        supersedes=row["supersedes"],
        generated_at=row["generated_at"],
        approved_at=row["approved_at"],
        published_at=row["published_at"],
        sha256=row["content_hash"] if row["status"] == "published" else None,
        readable=readable,
        links=_links(row["id"]),
    )


async def _reader(request: Request[Any, Any, Any]) -> Viewer | None:
    user = request.scope.get("user")
    return await load_viewer(user) if user is not None else None


async def _viewer(request: Request[Any, Any, Any]) -> Viewer:
    return await load_viewer(current_user(request))


async def _full(report_id: int, reader: Viewer | None) -> TransparencyReportOut:
    try:
        row = await services.get_report(report_id, reader)
    except NotFoundError:
        if reader is None:
            raise NotAuthorizedException("Sign in to continue.") from None
        raise
    item = await services.report_rendition(report_id, reader)
    out = _summary(row)
    out.supersedes_version = item.facts.supersedes_version
    out.superseded_by_version = item.facts.superseded_by_version
    out.report = item.document
    return out


def _check_text(values: dict[str, str]) -> None:
    reader = FormReader(values)
    for name, value in values.items():
        if "\x00" in value:
            reader.error(name, "Contains a character that cannot be stored (NUL).")
    if reader.errors:
        raise InvalidInput("Some values need correcting. Nothing has been saved.", reader.errors)


class TransparencyApiController(Controller):
    path = "/api/v1"
    tags = ["transparency"]
    security = [{"bearer": []}, {}]

    @get(
        "/transparency-reports",
        summary="Transparency reports the caller may read, newest period first",
        description="Without credentials: the published public editions. Filters: scope (a "
        "group's short name or organisation), period, edition, status.",
    )
    async def list_reports(
        self,
        request: Request[Any, Any, Any],
        report_scope: ScopeFilter = None,
        period: PeriodFilter = None,
        edition: EditionFilter = None,
        report_status: StatusFilter = None,
    ) -> TransparencyListOut:
        errors = {}
        if edition is not None and edition not in EDITIONS:
            errors["edition"] = "Choose board or public."
        if report_status is not None and report_status not in services.STATUSES:
            errors["status"] = "Choose draft, approved or published."
        if errors:
            raise InvalidInput("Unknown filter.", errors)
        rows = await services.list_reports(
            await _reader(request),
            scope=report_scope,
            period=period,
            edition=edition,
            status=report_status,
        )
        return TransparencyListOut(reports=[_summary(row) for row in rows])

    @post(
        "/transparency-reports",
        guards=[signed_in],
        summary="Generate a draft (or refresh the period's draft, or make a new version)",
        description="For a group: its chair or secretary. For the organisation: a Board member "
        "or an administrator. 201 when a report was added, 200 when the period's unpublished "
        "report was refreshed.",
        status_code=201,
    )
    async def generate(
        self, request: Request[Any, Any, Any], data: JSONBody[GenerateIn]
    ) -> Response[TransparencyReportOut]:
        viewer = await _viewer(request)
        _check_text({"scope": data.scope, "period": data.period})
        fields, errors = read_generate(
            {"scope": data.scope, "period": data.period, "edition": data.edition}
        )
        if errors:
            raise InvalidInput("Some values need correcting. Nothing has been saved.", errors)
        generated = await services.generate_report(
            fields["scope"], fields["period"], fields["edition"], viewer
        )
        try:
            out = await _full(generated.report_id, viewer)
        except NotFoundError:
            # An administrator may generate the organisation's board edition, not read it:
            # they learn that it exists, and nothing of its figures.
            out = _summary(await services.report_summary(generated.report_id), readable=False)
        return Response(
            out,
            status_code=201 if generated.created else 200,
            headers={"Location": f"/api/v1/transparency-reports/{generated.report_id}"},
        )

    @get(
        "/transparency-reports/{report_id:int}",
        summary="A transparency report with its figures, as its edition shows them",
        description="`report` is the published document: anyone can check `sha256` against "
        "the SHA-256 of its canonical JSON encoding (keys sorted, no spaces, UTF-8).",
    )
    async def get_report(
        self, request: Request[Any, Any, Any], report_id: TransparencyId
    ) -> TransparencyReportOut:
        return await _full(report_id, await _reader(request))

    @patch(
        "/transparency-reports/{report_id:int}",
        guards=[signed_in],
        summary="Change an unpublished report's narrative",
    )
    async def update_narrative(
        self,
        request: Request[Any, Any, Any],
        report_id: TransparencyId,
        data: JSONBody[NarrativeIn],
    ) -> TransparencyReportOut:
        viewer = await _viewer(request)
        await services.update_narrative(report_id, data.narrative.replace("\r\n", "\n"), viewer)
        return await _full(report_id, viewer)

    @post(
        "/transparency-reports/{report_id:int}/refresh",
        guards=[signed_in],
        summary="Recompute an unpublished report's figures from the records",
        status_code=200,
    )
    async def refresh(
        self, request: Request[Any, Any, Any], report_id: TransparencyId
    ) -> TransparencyReportOut:
        viewer = await _viewer(request)
        await services.refresh_report(report_id, viewer)
        return await _full(report_id, viewer)

    @post(
        "/transparency-reports/{report_id:int}/approve",
        guards=[signed_in],
        summary="Approve a draft (the group's chair; for the organisation, a Board member)",
        description="Refused (409) before the period has ended, for figures generated before "
        "it ended, and for a report already approved or published.",
        status_code=200,
    )
    async def approve(
        self, request: Request[Any, Any, Any], report_id: TransparencyId
    ) -> TransparencyReportOut:
        viewer = await _viewer(request)
        await services.approve_report(report_id, viewer)
        return await _full(report_id, viewer)

    @post(
        "/transparency-reports/{report_id:int}/publish",
        guards=[signed_in],
        summary="Publish an approved report: freeze it under its SHA-256 and tell the Board",
        status_code=200,
    )
    async def publish(
        self, request: Request[Any, Any, Any], report_id: TransparencyId
    ) -> TransparencyReportOut:
        viewer = await _viewer(request)
        await services.publish_report(report_id, viewer)
        return await _full(report_id, viewer)


__all__ = ["TransparencyApiController"]
