"""Written resolution pages: a group's resolutions, proposing one, one resolution with its
votes (voting and withdrawing there), and voting from the signed link in an email with no
sign-in. Each handler reads its form into a command, calls one service, and redirects; a
refusal shows the form again with every field's error."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from governance.accounts.auth import signed_in
from governance.accounts.policy import Viewer
from governance.core.contracts import read_form
from governance.core.errors import ConflictError, InvalidInput, PermissionDenied
from governance.core.http import (
    FormFailure,
    RowId,
    form_page,
    form_values,
    page,
    page_with_forms,
    refused_to_page,
)
from governance.core.http import redirect as redirect_to
from governance.core.urls import path_for
from governance.documents.controllers import upload_context, uploaded_files
from governance.documents.schemas import upload_body_limit
from governance.groups.dependencies import RequestViewer
from governance.groups.queries import get_group
from governance.resolutions import queries, services
from governance.resolutions.schemas import (
    RESOLUTION_VISIBILITIES,
    VISIBILITY_LABELS,
    VOTE_LABELS,
    NewResolution,
    NewVote,
)

FORM_TEMPLATE = "resolutions/form.html"
# A proposal may carry its papers (the documents domain's limits).
BODY_LIMIT = upload_body_limit()
BALLOT_TEMPLATE = "resolutions/ballot.html"
LABELS = {
    "visibilities": RESOLUTION_VISIBILITIES,
    "visibility_labels": VISIBILITY_LABELS,
    "vote_labels": VOTE_LABELS,
}
VOTED = {
    "open": "Your vote is recorded.",
    "carried": "Your vote is recorded. Every member has voted: the resolution is carried.",
    "not_carried": "Your vote is recorded. Every member has voted: the resolution is not carried.",
}


def _paper_limits() -> dict[str, Any]:
    """The proposal form's papers: how many and how large (their visibility is the
    resolution's)."""
    limits = upload_context({"visibility": "group"})
    return {"max_upload": limits["max_upload"], "max_files": limits["max_files"]}


async def _resolution_page(
    request: Request[Any, Any, Any],
    resolution_id: int,
    viewer: Viewer,
    failure: FormFailure | None = None,
) -> Template:
    view = await queries.resolution_view(resolution_id, viewer)
    context = {"resolution": view, **LABELS, **upload_context({"visibility": view.visibility})}
    return page_with_forms(request, "resolutions/show.html", context, failure)


async def _refused_on_page(
    request: Request[Any, Any, Any], resolution_id: int, viewer: Viewer, failure: FormFailure
) -> Template | Redirect:
    """A form of the resolution page refused: the page is shown again at its own address
    (the session keeps the refusal for the redirect's page view), or here for a token's
    client."""
    shown_at = path_for("resolutions:show", resolution_id=resolution_id)
    if redirected := await refused_to_page(request, shown_at, failure):
        return redirected
    return await _resolution_page(request, resolution_id, viewer, failure)


class ResolutionController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    guards = [signed_in]

    @get("/groups/{slug:str}/resolutions", name="resolutions:index")
    async def index(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        listing = await queries.group_resolutions(slug, viewer)
        return page(request, "resolutions/index.html", msgspec.structs.asdict(listing))

    @get("/groups/{slug:str}/resolutions/new", name="resolutions:new")
    async def new_form(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template:
        group = await get_group(slug)
        if not viewer.leads(group["id"]):
            raise PermissionDenied(services.NOT_A_LEADER)
        values = {"visibility": "internal"}
        context = {"group": group, "values": values, **LABELS, **_paper_limits()}
        return page(request, FORM_TEMPLATE, context)

    @post(
        "/groups/{slug:str}/resolutions/new",
        name="resolutions:create",
        request_max_body_size=BODY_LIMIT,
    )
    async def create(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, slug: FromPath[str]
    ) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(NewResolution, data, timezone=viewer.user.timezone)
        try:
            resolution_id = await services.propose_resolution(
                slug, command, viewer, unreadable=unreadable, files=uploaded_files(data)
            )
        except InvalidInput as error:
            context = {"group": await get_group(slug), **LABELS, **_paper_limits()}
            # A file cannot be put back in a form: it is chosen again. So this form is shown
            # again where it was posted (not redirected to its page, Post/Redirect/Get), with
            # the file field empty either way.
            typed = {key: value for key, value in form_values(data).items() if key != "file"}
            return form_page(
                request,
                FORM_TEMPLATE,
                typed,
                error.field_errors,
                context,
                message=error.message,
            )
        return redirect_to(
            path_for("resolutions:show", resolution_id=resolution_id),
            "Resolution put to the members; each has been sent their voting links.",
        )

    @get("/resolutions/{resolution_id:int}", name="resolutions:show")
    async def show(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, resolution_id: RowId
    ) -> Template:
        return await _resolution_page(request, resolution_id, viewer)

    @post("/resolutions/{resolution_id:int}/vote", name="resolutions:vote")
    async def vote(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, resolution_id: RowId
    ) -> Template | Redirect:
        data = await request.form()
        command, unreadable = read_form(NewVote, data)
        try:
            status = await services.cast_vote(resolution_id, command, viewer, unreadable=unreadable)
        except (InvalidInput, ConflictError) as error:
            failure = FormFailure.of(error, "vote", form_values(data))
            return await _refused_on_page(request, resolution_id, viewer, failure)
        path = path_for("resolutions:show", resolution_id=resolution_id)
        return redirect_to(path, VOTED.get(status, VOTED["open"]))

    @post("/resolutions/{resolution_id:int}/withdraw", name="resolutions:withdraw")
    async def withdraw(
        self, request: Request[Any, Any, Any], viewer: RequestViewer, resolution_id: RowId
    ) -> Template | Redirect:
        try:
            await services.withdraw_resolution(resolution_id, viewer)
        except ConflictError as error:
            failure = FormFailure.of(error, "withdraw")
            return await _refused_on_page(request, resolution_id, viewer, failure)
        path = path_for("resolutions:show", resolution_id=resolution_id)
        return redirect_to(path, "Resolution withdrawn; the members have been told.")


class ResolutionVoteLinkController(Controller):
    """A member's vote from the signed link in their email, with no sign-in. The GET only
    shows the motion and asks (mail scanners open links); the POST records."""

    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/resolution-votes"

    @get("/{vote_token:str}", name="resolutions:vote-by-link")
    async def confirm(self, request: Request[Any, Any, Any], vote_token: FromPath[str]) -> Template:
        ballot = await services.ballot(vote_token)
        wanted = request.query_params.get("choice") or ballot.my_vote or ""
        context = {"ballot": ballot, "values": {"choice": wanted}, "done": False, **LABELS}
        return page(request, BALLOT_TEMPLATE, context)

    @post("/{vote_token:str}", name="resolutions:vote-by-link-save")
    async def record(self, request: Request[Any, Any, Any], vote_token: FromPath[str]) -> Template:
        data = await request.form()
        command, unreadable = read_form(NewVote, data)
        try:
            await services.vote_by_link(vote_token, command, unreadable=unreadable)
        except (InvalidInput, ConflictError) as error:
            ballot = await services.ballot(vote_token)
            status = 422 if isinstance(error, InvalidInput) else 409
            context = {
                "ballot": ballot,
                "done": False,
                "values": form_values(data),
                "errors": error.field_errors,
                "form_error": error.message,
                **LABELS,
            }
            return page(request, BALLOT_TEMPLATE, context, status_code=status)
        ballot = await services.ballot(vote_token)
        return page(request, BALLOT_TEMPLATE, {"ballot": ballot, "done": True, **LABELS})
