import os

from piccolo.conf.apps import AppConfig

from governance.meetings.tables import (
    AgendaItem,
    Attendance,
    CalendarFeed,
    ConflictOfInterest,
    Decision,
    Erratum,
    Meeting,
    Minutes,
    MinutesComment,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="meetings",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        Meeting,
        AgendaItem,
        ConflictOfInterest,
        Attendance,
        Minutes,
        MinutesComment,
        Erratum,
        Decision,
        CalendarFeed,
    ],
    migration_dependencies=["governance.groups.piccolo_app"],
    commands=[],
)
