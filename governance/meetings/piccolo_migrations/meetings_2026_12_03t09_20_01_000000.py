from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T09:20:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "One reply per member and meeting"


async def _one_reply_per_member():
    # A migration's raw steps run before its schema changes, hence one of its own, after
    # the one that creates the table.
    from governance.meetings.tables import MeetingReply

    await MeetingReply.raw(
        'CREATE UNIQUE INDEX IF NOT EXISTS meeting_reply_once ON meeting_reply (meeting, "user")'
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="meetings", description=DESCRIPTION)
    manager.add_raw(_one_reply_per_member)
    return manager
