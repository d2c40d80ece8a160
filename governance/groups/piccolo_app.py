import os

from piccolo.conf.apps import AppConfig

from governance.groups.tables import Membership, ReportingLine, WorkingGroup

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="groups",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[WorkingGroup, Membership, ReportingLine],
    migration_dependencies=["governance.accounts.piccolo_app"],
    commands=[],
)
