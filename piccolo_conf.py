"""Lets Piccolo's own CLI (`piccolo migrations new ...`) run from the repository root."""

from governance.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
