import os

from piccolo.conf.apps import AppConfig

from governance.reports.tables import Delivery, Report

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Report, Delivery],
    migration_dependencies=["governance.actions.piccolo_app"],
    commands=[],
)
