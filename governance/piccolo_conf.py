"""Piccolo's configuration: the engine from settings and every domain app, in dependency order."""

from piccolo.conf.apps import AppRegistry

from governance.core.db import build_engine
from governance.settings import get_settings

DB = build_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "governance.core.piccolo_app",
        "governance.accounts.piccolo_app",
        "governance.groups.piccolo_app",
        "governance.meetings.piccolo_app",
        "governance.actions.piccolo_app",
        "governance.resolutions.piccolo_app",
        "governance.reports.piccolo_app",
        "governance.documents.piccolo_app",
        "governance.transparency.piccolo_app",
        "governance.notifications.piccolo_app",
        "governance.pulses.piccolo_app",
        # Last: its index is built from every other app's records.
        "governance.search.piccolo_app",
    ]
)
