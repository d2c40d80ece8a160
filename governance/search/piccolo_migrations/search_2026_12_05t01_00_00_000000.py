from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Written resolutions in the search index, from those proposed so far"


async def _index_resolutions():
    # Indexed from now on by their audit events; the ones proposed before this need a row.
    from governance.core.db import write_transaction
    from governance.resolutions.tables import WrittenResolution
    from governance.search.indexer import reindex_root

    async with write_transaction():
        for row in await WrittenResolution.select(WrittenResolution.id):
            await reindex_root(f"written_resolution:{row['id']}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="search", description=DESCRIPTION)
    manager.add_raw(_index_resolutions)
    return manager
