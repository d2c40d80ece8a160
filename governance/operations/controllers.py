"""Operations pages: a person's own data to download, and the administrators' status page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Template

from governance.accounts.auth import admin_only, current_user, signed_in
from governance.core.exports import attachment
from governance.core.http import page
from governance.operations import queries
from governance.scheduler import SCHEDULE

JSON_MEDIA_TYPE = "application/json"


class PersonalDataController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/profile"
    guards = [signed_in]

    @get("/my-data", name="operations:my-data")
    async def download(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Everything held about the signed-in person, as one JSON file."""
        data = await queries.personal_data(current_user(request).id)
        return attachment(queries.personal_data_json(data), JSON_MEDIA_TYPE, "my-data.json")


class StatusController(Controller):
    include_in_schema = False  # pages for people; the API is described at /schema
    path = "/admin/status"
    guards = [admin_only]

    @get("/", name="operations:status")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        status = await queries.operations_status(
            current_user(request), [job.name for job in SCHEDULE]
        )
        return page(request, "operations/status.html", {"status": status})
