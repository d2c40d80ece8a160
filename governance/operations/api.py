"""JSON routes of operations: the status an administrator monitors."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from governance.accounts.auth import admin_only, current_user
from governance.core.errors import problem_responses
from governance.operations import queries
from governance.operations.schemas import StatusView
from governance.scheduler import SCHEDULE


class OperationsApiController(Controller):
    path = "/api/v1/admin"
    guards = [admin_only]
    tags = ["operations"]
    security = [{"bearer": []}]

    @get(
        "/status",
        name="api:operations:status",
        summary="The service's status, for administrators",
        description="Database engine and size, the last backup, the outbox, the scheduler's "
        "lease and the last run of each job, and whether the audit chain verifies.",
        responses=problem_responses(401, 403),
    )
    async def status(self, request: Request[Any, Any, Any]) -> StatusView:
        return await queries.operations_status(
            current_user(request), [job.name for job in SCHEDULE]
        )
