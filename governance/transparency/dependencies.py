"""What the transparency routes need beyond the signed-in `viewer`: the reader of a page that
anyone may read without signing in (published public editions), and what is answered to
someone not signed in who asks for anything else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException

from governance.accounts.policy import Viewer
from governance.core.errors import NotFoundError
from governance.groups.queries import load_viewer


async def provide_reader(request: Request[Any, Any, Any]) -> Viewer | None:
    """The signed-in reader with their group roles (one query), or None for anyone."""
    user = request.scope.get("user")
    return await load_viewer(user) if user is not None else None


# The annotation for a handler's `reader` parameter, and its provider for the controllers.
RequestReader = NamedDependency[Viewer | None]
READER = {"reader": Provide(provide_reader)}


@contextmanager
def sign_in_for_more(reader: Viewer | None) -> Iterator[None]:
    """Without a session only published public editions exist: anything else, there or
    not, asks to sign in (401, a redirect to sign in for pages) and says no more."""
    try:
        yield
    except NotFoundError:
        if reader is None:
            raise NotAuthorizedException("Sign in to continue.") from None
        raise
