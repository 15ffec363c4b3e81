"""Existing rights map onto spaces, nobody losing access (backend/accounts/spaces.py,
`legacy_rights`): saisie + dépôt → modification in "Factures émises" and "Factures à valider",
traitement → modification in "Factures reçues", consultation → consultation elsewhere, a
gestionnaire → modification everywhere; each structure's first gestionnaire becomes its principal
gestionnaire. Structures keep the default spaces of their side (no `structure_spaces` row).
A separate migration, after the columns: Piccolo runs add_raw before add_column within one."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from backend.accounts.spaces import format_rights, legacy_rights

ID = "2026-12-07T05:30:00:000001"  # right after the columns
VERSION = "1.38.0"
DESCRIPTION = "existing rights become rights per space; first gestionnaire is principal"


async def map_rights() -> None:
    """One UPDATE per combination of the four flags (16 at most), on both SQLite and PostgreSQL."""
    combos = await Table.raw(
        "SELECT DISTINCT is_manager, can_deposit, can_consult, can_process FROM membership WHERE space_rights IS NULL")
    for row in combos:
        flags = {key: bool(row[key]) for key in ("is_manager", "can_deposit", "can_consult", "can_process")}
        rights = format_rights(legacy_rights(flags["can_deposit"], flags["can_consult"], flags["can_process"],
                                             flags["is_manager"]))
        await Table.raw(
            "UPDATE membership SET space_rights = {} WHERE space_rights IS NULL AND is_manager = {} "
            "AND can_deposit = {} AND can_consult = {} AND can_process = {}",
            rights, flags["is_manager"], flags["can_deposit"], flags["can_consult"], flags["can_process"])


async def name_principals() -> None:
    await Table.raw(
        "UPDATE membership SET is_principal = TRUE WHERE id IN (SELECT MIN(id) FROM membership "
        "WHERE status = 'active' AND is_manager = TRUE GROUP BY structure)")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    manager.add_raw(map_rights)
    manager.add_raw(name_principals)
    return manager
