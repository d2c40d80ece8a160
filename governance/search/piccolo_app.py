import os

from piccolo.conf.apps import AppConfig, table_finder

from governance.core.audit import after_event
from governance.search.indexer import reindex_entity

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

# Piccolo's registry imports every app wherever the database is used (the web service,
# the scheduler, every command, the tests), so registering here keeps the index current in
# all of them: each audit event, in its change's transaction, re-indexes the record it names.
after_event(reindex_entity)

APP_CONFIG = AppConfig(
    app_name="search",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=table_finder(["governance.search.tables"], exclude_imported=True),
    # Reads every domain's records; its migration's backfill needs their tables.
    migration_dependencies=[
        "governance.actions.piccolo_app",
        "governance.reports.piccolo_app",
        "governance.resolutions.piccolo_app",
    ],
    commands=[],
)
