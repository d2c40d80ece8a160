import os

from piccolo.conf.apps import AppConfig

from governance.notifications.tables import DigestRecord, SchedulerLease

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[SchedulerLease, DigestRecord],
    migration_dependencies=["governance.reports.piccolo_app"],
    commands=[],
)
