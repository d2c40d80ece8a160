"""Addresses by route name, for code that has no request at hand (emails, calendar files,
redirects built in jobs), and, through `address_in`, for templates (`url_for`, bound to its
application by `core.templating.url_for_in`); handlers use `request.url_for`. All ask the
same application's route table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.settings import get_settings

if TYPE_CHECKING:
    from litestar import Litestar

_application: Litestar | None = None
# The addresses already built, by route name and parameters, for the application last asked
# about: a page asks for fifty (every link and form of a meeting's agenda), and Litestar's
# `route_reverse` looks the route up and checks each parameter's type every time, a tenth
# of a page's rendering. The route table never changes once the application is built.
_addresses: dict[tuple[Any, ...] | str, str] = {}
_addresses_of: list[Litestar] = []
MOST_ADDRESSES_KEPT = 4096


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
    return address_in(_routes(), name, parameters)


def address_in(app: Litestar, name: str, parameters: dict[str, Any]) -> str:
    """`app.route_reverse(name, **parameters)`, built once for each name and parameters
    (their types are part of the key: `True` is not meeting 1)."""
    if not _addresses_of or _addresses_of[0] is not app:
        _addresses.clear()
        _addresses_of[:] = [app]
    # A link without parameters (the navigation's) is keyed by its name alone.
    key = (name, *parameters.items(), *map(type, parameters.values())) if parameters else name
    try:
        return _addresses[key]
    except KeyError:
        pass
    except TypeError:  # a value that cannot be a key: built each time
        return app.route_reverse(name, **parameters)
    address = app.route_reverse(name, **parameters)
    if len(_addresses) >= MOST_ADDRESSES_KEPT:
        _addresses.clear()
    _addresses[key] = address
    return address


def absolute_url(name: str, **parameters: Any) -> str:
    """The full address people use (`GOVERNANCE_BASE_URL` and the path), for emails."""
    return get_settings().base_url + path_for(name, **parameters)
