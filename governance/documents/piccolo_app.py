import os

from piccolo.conf.apps import AppConfig, table_finder

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    # Every table defined in this domain's tables.py; tables it imports from other domains
    # (for foreign keys) belong to their own apps.
    table_classes=table_finder(
        ["governance.documents.tables", "governance.documents.pack_tables"], exclude_imported=True
    ),
    migration_dependencies=[
        "governance.reports.piccolo_app",
        "governance.resolutions.piccolo_app",
    ],
    commands=[],
)
