from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T23:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Seal the head of the audit chain written so far"


async def _seal_the_existing_tail():
    # The chain written so far gets a head, so that deleting its newest events is caught
    # from now on. (A migration's raw steps run before its schema changes, hence a
    # migration of its own, after the one that adds the head's table.)
    from governance.core.audit import seal_head

    await seal_head()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(_seal_the_existing_tail)
    return manager
