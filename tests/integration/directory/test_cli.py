"""`facteur directory import`: exit codes and French output, in-process and as a real command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from backend import cli
from backend.directory.tables import Service, Structure
from tests.integration.directory.support import PARIS, fixture

ROOT = Path(__file__).resolve().parents[3]


async def _main(*args: str) -> int:
    # The command runs its own event loop (asyncio.run): give it a thread, as a shell would a process.
    return await asyncio.to_thread(cli.main, ["directory", "import", *args])


async def test_import_prints_a_french_summary_and_exits_0(clean_db, capsys):
    code = await _main(str(fixture("structures.csv")), str(fixture("services.csv")))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Fichier « structures.csv » : 7 lignes, encodage UTF-8, séparateur « ; »." in out
    assert "Structures : 5 créées, 0 mise à jour, 0 inchangée, 2 ignorées." in out
    assert "Services : 4 créés, 0 mis à jour, 0 inchangé, 1 ignoré." in out
    assert "structures.csv, ligne 5 : type d'identifiant « RIDET »" in out
    assert "Import terminé en" in out
    assert err == ""  # Piccolo's migration chatter is kept off the terminal
    assert await Structure.count() == 5

    code = await _main(str(fixture("structures.csv")), str(fixture("services.csv")))
    out, _ = capsys.readouterr()
    assert code == 0
    assert "Structures : 0 créée, 0 mise à jour, 5 inchangées, 2 ignorées." in out


async def test_bad_line_exits_1_lists_it_and_writes_nothing(clean_db, capsys):
    code = await _main(str(fixture("structures_bad_line.csv")))
    out, err = capsys.readouterr()
    assert code == 1
    assert "Import refusé : 1 ligne en erreur, rien n'a été importé." in err
    assert "structures_bad_line.csv, ligne 3 : Identifiant « 21750001600018 » : ce SIRET n'est pas valide" in err
    assert "Corrigez ces lignes puis relancez l'import." in err
    assert "Structures :" not in out
    assert await Structure.count() == 0


async def test_missing_column_or_file_exits_1(clean_db, capsys, tmp_path):
    assert await _main(str(fixture("structures_missing_columns.csv"))) == 1
    assert "colonnes obligatoires absentes : GestionService, StructureActive" in capsys.readouterr().err
    assert await _main(str(tmp_path / "absent.csv")) == 1
    assert "introuvable" in capsys.readouterr().err
    assert await Structure.count() == 0


async def test_the_installed_command_line(clean_db, settings):
    env = {**os.environ, "FACTEUR_DATA_DIR": str(settings.data_dir)}
    ok = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", "directory", "import", str(fixture("structures.csv")), str(fixture("services.csv"))],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Structures : 5 créées" in ok.stdout
    assert (await Structure.objects().get(Structure.siret == PARIS)).is_public
    assert await Service.count() == 4

    refused = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", "directory", "import", str(fixture("structures_bad_line.csv"))],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )
    assert refused.returncode == 1
    assert "ligne 3" in refused.stderr and "rien n'a été importé" in refused.stderr
