"""JSON routes of notifications: what waits for the signed-in person ("needs me"), the same
list as the page `/me/tasks` and the first section of their digest."""

from __future__ import annotations

from litestar import Controller, get

from governance.accounts.auth import signed_in
from governance.core.errors import problem_responses
from governance.groups.dependencies import RequestViewer
from governance.notifications.needs_me import task_list
from governance.notifications.schemas import TaskListView

SIGNED_IN_ERRORS = problem_responses(401)


class TasksApiController(Controller):
    path = "/api/v1/me/tasks"
    guards = [signed_in]
    tags = ["accounts"]
    security = [{"bearer": []}]

    @get(
        "/",
        name="api:me:tasks",
        responses=SIGNED_IN_ERRORS,
        summary="What waits for the signed-in user, oldest first, with where each is done",
        description="Minutes to comment on, the caller's actions past or near their due "
        "date, deliveries awaiting their line, periodic reports their groups owe and "
        "transparency reports to approve; each row disappears once done.",
    )
    async def tasks(self, viewer: RequestViewer) -> TaskListView:
        return await task_list(viewer)
