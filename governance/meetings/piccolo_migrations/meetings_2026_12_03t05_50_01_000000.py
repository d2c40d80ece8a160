from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T05:50:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Seal the minutes approved before minutes had a content hash"


async def _seal_minutes_approved_so_far():
    # Minutes approved before this change get their hash now, of what they hold now, so
    # that a change made from here on is caught. (A migration's raw steps run before its
    # schema changes, hence a migration of its own, after the one that adds the columns.)
    from governance.meetings.integrity import seal_unsealed_minutes

    await seal_unsealed_minutes()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)
    manager.add_raw(_seal_minutes_approved_so_far)
    return manager
