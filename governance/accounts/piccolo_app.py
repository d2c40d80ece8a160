import os

from piccolo.conf.apps import AppConfig

from governance.accounts.tables import ApiToken, LoginAttempt, User, UserSession

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[User, UserSession, ApiToken, LoginAttempt],
    migration_dependencies=["governance.core.piccolo_app"],
    commands=[],
)
