from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "One row per chunk of a document's content"


async def _unique_chunks():
    # A Piccolo constraint is an ALTER TABLE, which SQLite does not have, so the index is
    # made here (a migration's raw steps run before its schema changes, hence a migration
    # of its own, after the one that adds the table).
    from governance.documents.tables import DocumentBlob

    await DocumentBlob.raw(
        "CREATE UNIQUE INDEX IF NOT EXISTS document_blob_sha256_chunk "
        "ON document_blob (sha256, chunk_index)"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)
    manager.add_raw(_unique_chunks)
    return manager
