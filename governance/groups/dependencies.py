"""What route handlers of every domain need from groups: the viewer of the request."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from governance.accounts.auth import current_user
from governance.accounts.policy import Viewer
from governance.groups.services import load_viewer


async def current_viewer(connection: ASGIConnection[Any, Any, Any, Any]) -> Viewer:
    """The signed-in user with the group roles they hold today (one query)."""
    return await load_viewer(current_user(connection))
