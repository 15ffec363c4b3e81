"""Importing the directory export into the database: upsert, counts, all or nothing."""

from __future__ import annotations

from backend.accounts.tables import Membership
from backend.directory.importer import import_directory
from backend.directory.tables import Service, Structure
from tests.integration.directory.support import (
    COLLEGE,
    HOSPITAL,
    MARSEILLE,
    PARIS,
    REGIE,
    STRASBOURG,
    edited_copy,
    fixture,
    import_fixtures,
)


async def _structure(siret: str) -> Structure:
    return await Structure.objects().get(Structure.siret == siret)


async def _services(siret: str) -> dict[str, Service]:
    structure = await _structure(siret)
    return {s.code: s for s in await Service.objects().where(Service.structure == structure.id)}


async def test_import_creates_public_structures_and_services(clean_db):
    report = await import_fixtures()
    assert (report.structures.created, report.structures.updated, report.structures.unchanged, report.structures.skipped) == (5, 0, 0, 2)
    assert (report.services.created, report.services.updated, report.services.unchanged, report.services.skipped) == (4, 0, 0, 1)
    assert [issue.line for issue in report.skipped] == [5, 8, 6]
    assert await Structure.count() == 5

    paris = await _structure(PARIS)
    assert paris.is_public and paris.active
    assert (paris.name, paris.siren, paris.country) == ("Commune de Paris", "217500016", "FR")
    assert (paris.requires_service, paris.requires_engagement, paris.requires_service_or_engagement, paris.reports_payment) == (True, False, False, True)
    assert (paris.address_line1, paris.postal_code, paris.city) == ("Place de l'Hôtel de Ville", "75004", "Paris")
    assert paris.search_key == "commune de paris 75004 paris"

    marseille = await _structure(MARSEILLE)
    assert (marseille.address_line1, marseille.address_line2, marseille.requires_engagement) == ("Quai du Port", "Hôtel de Ville", True)
    assert (await _structure(HOSPITAL)).reports_payment is False
    assert (await _structure(REGIE)).active is False
    college = await _structure(COLLEGE)  # written "213 300 635 00017" in the file
    assert college.requires_service_or_engagement is True

    services = await _services(PARIS)
    assert {code: (s.name, s.requires_engagement, s.active) for code, s in services.items()} == {
        "FIN": ("Direction des finances", False, True),
        "TECH": ("Services techniques", True, True),
        "OLD": ("Ancien service", False, False),
    }
    assert (await _services(MARSEILLE))["ACHATS"].requires_engagement is True


async def test_importing_the_same_files_again_changes_nothing(clean_db):
    await import_fixtures()
    before = {s.siret: s.updated_at for s in await Structure.objects()}
    report = await import_fixtures()
    assert (report.structures.created, report.structures.updated, report.structures.unchanged) == (0, 0, 5)
    assert (report.services.created, report.services.updated, report.services.unchanged) == (0, 0, 4)
    assert {s.siret: s.updated_at for s in await Structure.objects()} == before
    assert await Structure.count() == 5 and await Service.count() == 4


async def test_changed_lines_are_updated_and_new_ones_created(clean_db, tmp_path):
    await import_fixtures()
    before = {s.siret: s.updated_at for s in await Structure.objects()}
    structures = edited_copy(tmp_path, "structures.csv", {
        "SIRET;21750001600019;Commune de Paris;false;true;true;false;true;": "SIRET;21750001600019;Commune de Paris;false;true;true;true;true;",
        "Ville de Marseille": "Ville de Marseille (mairie centrale)",
    })
    services = edited_copy(tmp_path, "services.csv", {"TECH;Services techniques;true;true": "TECH;Services techniques;true;false"})
    report = await import_directory(structures, services)
    assert report.imported
    assert (report.structures.created, report.structures.updated, report.structures.unchanged) == (0, 2, 3)
    assert (report.services.created, report.services.updated, report.services.unchanged) == (0, 1, 3)
    assert (await _structure(PARIS)).requires_engagement is True
    marseille = await _structure(MARSEILLE)
    assert marseille.name == "Ville de Marseille (mairie centrale)"
    assert marseille.search_key == "ville de marseille (mairie centrale) 13002 marseille"
    assert (await _services(PARIS))["TECH"].active is False
    after = {s.siret: s.updated_at for s in await Structure.objects()}
    assert after[PARIS] > before[PARIS] and after[MARSEILLE] > before[MARSEILLE]
    assert after[HOSPITAL] == before[HOSPITAL]

    # A second file adds Strasbourg and leaves the structures it does not list alone.
    report = await import_directory(fixture("structures_cp1252.csv"))
    assert (report.structures.created, report.structures.updated, report.structures.unchanged) == (1, 1, 0)
    assert (await _structure(STRASBOURG)).name == "Eurométropole de Strasbourg"
    assert (await _structure(PARIS)).requires_engagement is False  # back to the cp1252 file's value
    assert await Structure.count() == 6


async def test_a_file_with_one_bad_line_imports_nothing(clean_db):
    report = await import_directory(fixture("structures_bad_line.csv"))
    assert not report.imported
    assert [(issue.file, issue.line) for issue in report.bad] == [("structures_bad_line.csv", 3)]
    assert (report.structures.created, report.structures.updated) == (0, 0)
    assert await Structure.count() == 0
    assert await Service.count() == 0


async def test_a_bad_line_leaves_the_existing_directory_untouched(clean_db, tmp_path):
    await import_fixtures()
    structures = edited_copy(tmp_path, "structures.csv", {
        "Ville de Marseille": "Ville de Marseille renommée",
        "SIRET;20004567200017;": "SIRET;20004567200018;",
    })
    report = await import_directory(structures)
    assert not report.imported
    assert [issue.line for issue in report.bad] == [6]
    assert (await _structure(MARSEILLE)).name == "Ville de Marseille"


async def test_a_service_of_an_unknown_structure_refuses_both_files(clean_db, tmp_path):
    services = edited_copy(tmp_path, "services.csv", {"21130055300016;ACHATS": "11000201100010;ACHATS"})
    report = await import_directory(fixture("structures.csv"), services)
    assert not report.imported
    assert len(report.bad) == 1
    assert (report.bad[0].file, report.bad[0].line) == ("services.csv", 5)
    assert "11000201100010 n'est ni dans le fichier des structures ni dans l'annuaire" in report.bad[0].message
    assert await Structure.count() == 0


async def test_a_service_may_belong_to_a_structure_already_in_the_directory(clean_db, tmp_path):
    await import_fixtures(services=None)
    services = tmp_path / "services.csv"
    services.write_text(f"IdentifiantStructure;CodeService;NomService\n{MARSEILLE};RH;Ressources humaines\n", encoding="utf-8")
    report = await import_directory(fixture("structures_cp1252.csv"), services)
    assert report.imported, [str(b) for b in report.bad]
    assert report.services.created == 1
    assert (await _services(MARSEILLE))["RH"].name == "Ressources humaines"


async def test_unusable_file_is_refused_before_touching_the_database(clean_db):
    report = await import_directory(fixture("structures_missing_columns.csv"))
    assert not report.imported
    assert "GestionService, StructureActive" in report.refused
    assert await Structure.count() == 0


async def test_a_supplier_with_the_same_siret_becomes_public_and_keeps_its_profile(client, accounts):
    person = await accounts.registered(siret=PARIS, company="Menuiserie Test")
    supplier = await _structure(PARIS)
    assert not supplier.is_public
    report = await import_fixtures()
    assert (report.structures.created, report.structures.updated) == (4, 1)

    structure = await _structure(PARIS)
    assert structure.id == supplier.id
    assert structure.is_public and structure.requires_service and structure.reports_payment
    assert (structure.name, structure.address_line1, structure.city) == ("Menuiserie Test", "", "")
    assert structure.search_key == "menuiserie test"
    assert await Structure.count() == 5
    assert await Membership.count().where(Membership.structure == structure.id) == 1
    assert len(await _services(PARIS)) == 3

    # Still the supplier's profile on the next import: nothing to change.
    again = await import_fixtures()
    assert (again.structures.updated, again.structures.unchanged) == (0, 5)
    assert person.siret == PARIS
