"""Addresses by route name, for code that has no request at hand (emails, calendar files,
redirects built in jobs). Pages use Litestar's `url_for` in templates and
`request.url_for` in handlers; this module asks the same application's route table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.settings import get_settings

if TYPE_CHECKING:
    from litestar import Litestar

_application: Litestar | None = None


def use_application(app: Litestar) -> None:
    """Called by `create_app`: names resolve against the application being served."""
    global _application
    _application = app


def _routes() -> Litestar:
    if _application is None:
        # A process that queues email without serving pages (`governance scheduler`, a
        # command) still builds addresses from the one route table; creating the app
        # registers it.
        from governance.app import create_app

        create_app()
    assert _application is not None
    return _application


def path_for(name: str, **parameters: Any) -> str:
    """The path of the route with this name, e.g. `path_for("meetings:show", meeting_id=4)`."""
    return _routes().route_reverse(name, **parameters)


def absolute_url(name: str, **parameters: Any) -> str:
    """The full address people use (`GOVERNANCE_BASE_URL` and the path), for emails."""
    return get_settings().base_url + path_for(name, **parameters)
