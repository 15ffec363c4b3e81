"""Reading Chorus Pro directory exports: columns, encodings, yes/no values, bad and skipped lines."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from stdnum import luhn

from backend.directory.export_csv import (
    FileRefused,
    _plain_valid_siret,
    decode,
    header_key,
    parse_bool,
    read_services,
    read_structures,
)
from backend.directory.identifiers import siret_error

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "directory"
HEADER = "TypeIdentifiant;Identifiant;RaisonSociale;GestionStatutMiseEnPaiement;GestionEngagement;GestionService;GestionServiceEngagement;StructureActive;Adresse;CodePostal;Ville"
PARIS = "21750001600019"
MARSEILLE = "21130055300016"


def write(tmp_path: Path, text: str, name: str = "structures.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_header_matching_ignores_case_accents_spaces_bom_and_filler_words():
    assert header_key("\ufeffTypeIdentifiant") == "typeidentifiant"
    assert header_key(" Type d'identifiant ") == "typeidentifiant"
    assert header_key("type_identifiant") == "typeidentifiant"
    assert header_key("Gestion du statut de mise en paiement") == header_key("GestionStatutMiseEnPaiement")
    assert header_key("Complément adresse 1") == header_key("ComplementAdresse1")
    assert header_key("Complément adresse 1") != header_key("ComplementAdresse2")


@pytest.mark.parametrize("raw", ["true", "TRUE", " True ", "1", "Oui", "OUI", "vrai", "o", "yes"])
def test_yes_values(raw):
    assert parse_bool(raw) is True


@pytest.mark.parametrize("raw", ["false", "False", "0", "Non", "NON", "faux", "n", "no"])
def test_no_values(raw):
    assert parse_bool(raw) is False


@pytest.mark.parametrize("raw", ["", "peut-être", "2", "oui non"])
def test_other_values_are_not_yes_or_no(raw):
    assert parse_bool(raw) is None


def test_decoding_prefers_bom_then_utf8_then_cp1252_then_latin1():
    assert decode("\ufeffCollège".encode("utf-8")) == ("Collège", "utf-8-sig")
    assert decode("Collège".encode("utf-8")) == ("Collège", "utf-8")
    assert decode("Collège – Œuvre".encode("cp1252")) == ("Collège – Œuvre", "cp1252")
    # 0x81 is undefined in cp1252: only latin-1 can read it.
    assert decode(b"Coll\xe8ge \x81") == ("Collège \x81", "latin-1")
    assert decode("Collège".encode("utf-16")) == ("Collège", "utf-16")


def test_chorus_export_with_extra_columns_and_other_identifier_types():
    parsed = read_structures(FIXTURES / "structures.csv")
    assert parsed.encoding == "utf-8" and parsed.delimiter == ";"
    assert parsed.lines == 7
    assert parsed.bad == []
    assert [r.siret for r in parsed.rows] == [PARIS, MARSEILLE, "13000123300019", "20004567200017", "21330063500017"]
    paris, marseille, hospital, regie, college = parsed.rows
    assert (paris.requires_service, paris.requires_engagement, paris.reports_payment, paris.active) == (True, False, True, True)
    assert (marseille.requires_service, marseille.requires_engagement) == (False, True)
    assert (marseille.address_line1, marseille.address_line2, marseille.postal_code, marseille.city) == ("Quai du Port", "Hôtel de Ville", "13002", "Marseille")
    assert hospital.name == "Centre hospitalier de Saint-Étienne" and hospital.reports_payment is False
    assert regie.active is False
    assert college.requires_service_or_engagement is True  # and its SIRET was written with spaces
    assert [(s.line, s.message.split(" :")[0]) for s in parsed.skipped] == [
        (5, "type d'identifiant « RIDET »"), (8, "type d'identifiant « TAHITI »"),
    ]
    assert all("seules les structures identifiées par un SIRET" in s.message for s in parsed.skipped)


def test_cp1252_export_with_french_headers_yes_no_values_and_crlf():
    parsed = read_structures(FIXTURES / "structures_cp1252.csv")
    assert parsed.encoding == "cp1252"
    assert parsed.bad == []
    strasbourg = parsed.rows[1]
    assert strasbourg.name == "Eurométropole de Strasbourg"
    assert strasbourg.address_line1 == "1 parc de l'Étoile"
    assert (strasbourg.requires_engagement, strasbourg.requires_service, strasbourg.reports_payment) == (True, False, False)


def test_utf8_bom_lowercase_headers_with_spaces_and_an_unknown_column():
    parsed = read_structures(FIXTURES / "structures_bom.csv")
    assert parsed.encoding == "utf-8-sig"
    assert [r.name for r in parsed.rows] == ["Mairie de Toulouse – Capitole", "Ville de Nice"]
    nice = parsed.rows[1]
    assert (nice.requires_engagement, nice.reports_payment, nice.active, nice.postal_code) == (True, False, False, "06364")


def test_missing_required_columns_refuse_the_file_naming_them():
    with pytest.raises(FileRefused) as refused:
        read_structures(FIXTURES / "structures_missing_columns.csv")
    message = refused.value.message
    assert "colonnes obligatoires absentes : GestionService, StructureActive" in message
    assert "structures_missing_columns.csv" in message


def test_missing_empty_and_binary_files_are_refused(tmp_path):
    with pytest.raises(FileRefused, match="introuvable"):
        read_structures(tmp_path / "absent.csv")
    with pytest.raises(FileRefused, match="vide"):
        read_structures(write(tmp_path, ""))
    with pytest.raises(FileRefused, match="n'est pas un fichier texte"):
        read_structures(write(tmp_path, "PK\x03\x04\x00\x00binaire", "archive.csv"))


def test_bad_siret_is_a_bad_line_with_its_number_and_a_french_reason():
    parsed = read_structures(FIXTURES / "structures_bad_line.csv")
    assert [r.siret for r in parsed.rows] == ["11000201100010", "21330063500017"]
    assert len(parsed.bad) == 1
    assert parsed.bad[0].line == 3
    assert str(parsed.bad[0]) == (
        "structures_bad_line.csv, ligne 3 : Identifiant « 21750001600018 » : "
        "ce SIRET n'est pas valide (clé de contrôle incorrecte) : vérifiez les 14 chiffres."
    )


def test_every_problem_of_a_line_is_reported(tmp_path):
    path = write(tmp_path, "\n".join([
        HEADER,
        f"SIRET;{PARIS};Commune de Paris;true;false;true;false;true;;75004;Paris",
        "SIRET;1234;;peut-être;false;;false;true;;75004;Paris",
        f"SIRET;{PARIS};Doublon;true;false;true;false;true;;75004;Paris",
        f"SIRET;{MARSEILLE};{'X' * 300};true;false;true;false;true;;13002;Marseille",
        f"SIRET;{MARSEILLE};Trop de champs;true;false;true;false;true;;13002;Marseille;en trop",
        f"SIRET;{MARSEILLE};Pas assez;true;false",
        "",
    ]))
    parsed = read_structures(path)
    assert [r.line for r in parsed.rows] == [2]
    bad = {issue.line: issue.message for issue in parsed.bad}
    assert set(bad) == {3, 4, 5, 6, 7}
    assert "exactement 14 chiffres" in bad[3]
    assert "RaisonSociale est vide" in bad[3]
    assert "GestionStatutMiseEnPaiement : valeur « peut-être » non reconnue" in bad[3]
    assert "GestionService : valeur vide non reconnue" in bad[3]
    assert f"SIRET {PARIS} en double (déjà présent ligne 2)" in bad[4]
    assert "RaisonSociale est trop long (300 caractères, 255 au plus)" in bad[5]
    assert "12 champs au lieu de 11" in bad[6]
    assert "ligne incomplète : 5 champs au lieu de 11" in bad[7]


def test_line_numbers_count_physical_lines_and_blank_lines_are_ignored(tmp_path):
    path = write(tmp_path, "\r\n".join([
        HEADER,
        "",
        f'SIRET;{PARIS};"Commune de Paris\nHôtel de Ville";true;false;true;false;true;;75004;Paris',
        "SIRET;21750001600018;Mauvais;true;false;true;false;true;;75004;Paris",
        "",
    ]))
    parsed = read_structures(path)
    assert parsed.lines == 2
    assert parsed.rows[0].line == 3 and parsed.rows[0].name == "Commune de Paris\nHôtel de Ville"
    assert [issue.line for issue in parsed.bad] == [5]


def test_optional_columns_take_their_defaults(tmp_path):
    path = write(tmp_path, "Identifiant;RaisonSociale;GestionStatutMiseEnPaiement;GestionEngagement;GestionService;StructureActive\n"
                           f"{PARIS};Commune de Paris;0;1;0;1\n")
    row = read_structures(path).rows[0]
    assert row.requires_service_or_engagement is False  # column absent
    assert (row.address_line1, row.postal_code, row.city) == ("", "", "")
    assert (row.reports_payment, row.requires_engagement, row.requires_service, row.active) == (False, True, False, True)


def test_comma_separated_file_is_recognised(tmp_path):
    path = write(tmp_path, HEADER.replace(";", ",") + "\n" + f'SIRET,{PARIS},"Paris, Commune",true,false,true,false,true,,75004,Paris\n')
    parsed = read_structures(path)
    assert parsed.delimiter == ","
    assert parsed.rows[0].name == "Paris, Commune"


def test_services_file_defaults_and_skipped_structures(tmp_path):
    path = write(tmp_path, "\n".join([
        "Identifiant structure;Code service;Libellé service",
        f"{PARIS};FIN;Direction des finances",
        "0123456.001;SUD1;Service de la province",
        f"{PARIS};FIN;Doublon",
        f"{PARIS};;Sans code",
    ]), "services.csv")
    structures = write(tmp_path, HEADER + "\nRIDET;0123456.001;Province Sud;true;false;false;false;true;;98800;Nouméa\n")
    parsed = read_services(path, read_structures(structures).skipped_ids)
    assert [(r.siret, r.code, r.requires_engagement, r.active) for r in parsed.rows] == [(PARIS, "FIN", False, True)]
    assert [s.line for s in parsed.skipped] == [3]
    assert "RIDET" in parsed.skipped[0].message
    bad = {issue.line: issue.message for issue in parsed.bad}
    assert "service FIN de la structure 21750001600019 en double (déjà présent ligne 2)" in bad[4]
    assert "Code service est vide" in bad[5]


def test_services_fixture():
    parsed = read_services(FIXTURES / "services.csv", read_structures(FIXTURES / "structures.csv").skipped_ids)
    assert [(r.code, r.requires_engagement, r.active) for r in parsed.rows] == [
        ("FIN", False, True), ("TECH", True, True), ("OLD", False, False), ("ACHATS", True, True),
    ]
    assert [s.line for s in parsed.skipped] == [6]
    assert parsed.bad == []


def test_services_file_without_required_columns_is_refused(tmp_path):
    with pytest.raises(FileRefused, match="CodeService, NomService"):
        read_services(write(tmp_path, f"IdentifiantStructure;Libre\n{PARIS};x\n", "services.csv"))


def test_fast_siret_check_agrees_with_siret_error():
    rng = random.Random(14)
    samples = []
    for _ in range(3000):
        siren = f"{rng.randint(0, 99999999):08d}"
        siren += luhn.calc_check_digit(siren)
        body = siren + f"{rng.randint(0, 9999):04d}"
        valid = body + luhn.calc_check_digit(body)
        samples += [valid, valid[:-1] + str((int(valid[-1]) + 1) % 10), f"{rng.randint(0, 10**14 - 1):014d}"]
    samples += ["356000000" + "00011", "35600000000048", "2175000160001", "2175000160001a", "217500016000190"]
    for raw in samples:
        if _plain_valid_siret(raw):
            assert siret_error(raw) is None, raw
    assert any(_plain_valid_siret(s) for s in samples) and any(not _plain_valid_siret(s) for s in samples)
