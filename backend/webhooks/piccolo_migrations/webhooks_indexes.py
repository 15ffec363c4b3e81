"""Composite indexes of the webhooks app (raw SQL, the same on SQLite and PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T08:37:22:442831"
VERSION = "1.38.0"
DESCRIPTION = "delivery log listed per webhook, and the per-invoice ordering check"

INDEXES = {
    # The delivery log of a webhook, newest first.
    "webhook_delivery_by_webhook": "CREATE INDEX webhook_delivery_by_webhook ON webhook_delivery (webhook, id)",
    # Before sending, "is an older delivery of this invoice still pending for this webhook?"
    "webhook_delivery_order": "CREATE INDEX webhook_delivery_order ON webhook_delivery (webhook, invoice, status, sequence)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="webhooks", description=DESCRIPTION)

    async def create_indexes():
        for sql in INDEXES.values():
            await Table.raw(sql)

    async def drop_indexes():
        for name in INDEXES:
            await Table.raw(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
