import os

from piccolo.conf.apps import AppConfig

from governance.core.tables import AuditEvent, OutboundEmail

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[AuditEvent, OutboundEmail],
    migration_dependencies=[],
    commands=[],
)
