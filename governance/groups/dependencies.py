"""What route handlers of every domain need from groups: the viewer of the request.

`provide_viewer` is registered in `app.py` as the `viewer` dependency (Litestar's `Provide`),
so a handler declares `viewer: Viewer` instead of building it. It lives here, not in core,
because a viewer's group roles are read from the memberships."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from governance.accounts.auth import current_user, signed_in_of
from governance.accounts.policy import Viewer
from governance.core.http import request_state
from governance.groups.queries import load_viewer

VIEWER_STATE = "viewer"


async def provide_viewer(request: Request[Any, Any, Any]) -> Viewer:
    """The signed-in user with the group roles they hold today (read with the session or
    token, or in one query, once per request: a hook that needs it before the handler
    leaves it for the handler); a request
    without one is answered 401 (pages: a redirect to sign in)."""
    state = request_state(request)
    viewer = state.get(VIEWER_STATE)
    if viewer is None:
        # The sign-in middleware read the roles with the session or token; a person put
        # in the scope otherwise (a test's, a command's) has them read here.
        signed_in = signed_in_of(request)
        user = current_user(request)
        viewer = (
            signed_in.viewer
            if signed_in is not None and signed_in.viewer.user is user
            else await load_viewer(user)
        )
        state[VIEWER_STATE] = viewer
    return viewer  # type: ignore[no-any-return]


# The annotation for a handler's `viewer` parameter: the named dependency above.
RequestViewer = NamedDependency[Viewer]
