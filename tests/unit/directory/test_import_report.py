"""The French summary printed by `facteur directory import`."""

from __future__ import annotations

from backend.directory.export_csv import LineIssue, ParsedFile
from backend.directory.importer import MAX_LISTED, Counts, ImportReport, format_report


def _files() -> list[ParsedFile]:
    return [ParsedFile(name="structures.csv", encoding="cp1252", delimiter=";", lines=150_000),
            ParsedFile(name="services.csv", encoding="utf-8-sig", delimiter=";", lines=1)]


def test_success_summary_agrees_in_number_and_gender():
    report = ImportReport(
        structures=Counts(created=1, updated=2, unchanged=0, skipped=1452),
        services=Counts(created=2, updated=1, unchanged=1, skipped=0),
        files=_files(),
        skipped=[LineIssue("structures.csv", 5, "type d'identifiant « RIDET » : seules les structures identifiées par un SIRET sont importées.")],
        seconds=12.34,
    )
    out, err = format_report(report)
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "Fichier « structures.csv » : 150\u202f000 lignes, encodage Windows-1252, séparateur « ; »."
    assert lines[1] == "Fichier « services.csv » : 1 ligne, encodage UTF-8 (avec BOM), séparateur « ; »."
    assert "Structures : 1 créée, 2 mises à jour, 0 inchangée, 1\u202f452 ignorées." in lines
    assert "Services : 2 créés, 1 mis à jour, 1 inchangé, 0 ignoré." in lines
    assert "1 ligne ignorée :" in lines
    assert "  structures.csv, ligne 5 : type d'identifiant « RIDET » : seules les structures identifiées par un SIRET sont importées." in lines
    assert lines[-1] == "Import terminé en 12,3 s."


def test_refusal_lists_bad_lines_on_stderr_and_caps_the_list():
    bad = [LineIssue("structures.csv", n, "ce SIRET n'est pas valide.") for n in range(2, MAX_LISTED + 7)]
    out, err = format_report(ImportReport(files=_files(), bad=bad))
    lines = err.splitlines()
    assert lines[0] == f"Import refusé : {len(bad)} lignes en erreur, rien n'a été importé."
    assert lines[1] == "  structures.csv, ligne 2 : ce SIRET n'est pas valide."
    assert lines[-2] == "  … et 5 autres."
    assert lines[-1] == "Corrigez ces lignes puis relancez l'import."
    assert "Structures :" not in out


def test_unusable_file_message():
    out, err = format_report(ImportReport(refused="Fichier des structures « x.csv » introuvable."))
    assert out == ""
    assert err == "Import refusé : Fichier des structures « x.csv » introuvable.\nRien n'a été importé."
