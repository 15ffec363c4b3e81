"""Invoices suspended when the interruption rule arrived were counted as stopped under the
earlier rule: they keep their clock stopped, and their new delay opens when the supplier
completes them (backend/processing/payment_delays.py).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-07T01:55:00:000001"  # right after the column
VERSION = "1.38.0"
DESCRIPTION = "suspended invoices keep their payment clock stopped"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="invoices", description=DESCRIPTION)

    async def stop_the_clock_of_suspended_invoices():
        await Table.raw("UPDATE invoice SET payment_clock_stopped = TRUE WHERE status = 'SUSPENDUE'")

    manager.add_raw(stop_the_clock_of_suspended_invoices)
    return manager
