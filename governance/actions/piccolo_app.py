import os

from piccolo.conf.apps import AppConfig

from governance.actions.tables import ActionItem, ActionOwner, ActionUpdate

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="actions",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[ActionItem, ActionOwner, ActionUpdate],
    migration_dependencies=["governance.meetings.piccolo_app"],
    commands=[],
)
