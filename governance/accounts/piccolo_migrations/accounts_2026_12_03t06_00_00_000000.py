from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-03T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Two-factor sign-in, recovery codes, and API tokens that expire, are revoked or read only"


class User(Table, tablename="app_user", schema=None):
    id = Serial(null=False, primary_key=True, unique=False, index=False)


def _params(**overrides: Any) -> dict[str, Any]:
    params = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    return {**params, **overrides}


def _add(
    manager: MigrationManager, table: str, tablename: str, name: str, kind: type, **params: Any
) -> None:
    manager.add_column(
        table_class_name=table,
        tablename=tablename,
        column_name=name,
        db_column_name=name,
        column_class_name=kind.__name__,
        column_class=kind,
        params=_params(**params),
        schema=None,
    )


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    _add(manager, "User", "app_user", "totp_secret", Varchar, length=64, default="", secret=True)
    _add(manager, "User", "app_user", "totp_last_step", Integer, default=0)
    _add(manager, "User", "app_user", "totp_enabled_at", Timestamptz, null=True, default=None)
    _add(manager, "ApiToken", "api_token", "expires_at", Timestamptz, null=True, default=None)
    _add(manager, "ApiToken", "api_token", "revoked_at", Timestamptz, null=True, default=None)
    _add(manager, "ApiToken", "api_token", "read_only", Boolean, default=False)
    manager.add_table(
        class_name="RecoveryCode", tablename="recovery_code", schema=None, columns=None
    )
    _add(manager, "RecoveryCode", "recovery_code", "id", Serial, primary_key=True)
    _add(
        manager,
        "RecoveryCode",
        "recovery_code",
        "user",
        ForeignKey,
        references=User,
        on_delete=OnDelete.cascade,
        on_update=OnUpdate.cascade,
        target_column=None,
        null=True,
        index=True,
    )
    _add(manager, "RecoveryCode", "recovery_code", "code_hash", Varchar, length=64, default="", index=True)
    _add(manager, "RecoveryCode", "recovery_code", "used_at", Timestamptz, null=True, default=None)
    return manager
