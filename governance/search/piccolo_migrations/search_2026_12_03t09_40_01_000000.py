from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T09:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Full text over the search index (FTS5 or tsvector), built from the records so far"


async def _full_text_and_backfill():
    # A migration's raw steps run before its schema changes, hence a migration of its own,
    # after the one that adds the table.
    from governance.core.db import get_engine, is_postgres, write_transaction
    from governance.search.indexer import rebuild_index
    from governance.search.queries import full_text_schema

    engine = get_engine()
    for statement in full_text_schema(postgres=is_postgres(engine)):
        await engine.run_ddl(statement)
    async with write_transaction():
        await rebuild_index()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="search", description=DESCRIPTION)
    manager.add_raw(_full_text_and_backfill)
    return manager
