"""Action pages: my actions, a group's actions, one action with its progress."""

from __future__ import annotations

from litestar import Controller


class ActionController(Controller):
    pass
