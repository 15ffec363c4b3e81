"""`facteur validate --portal` against the configured database, through the console entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.unit.validation.invoice_builders import cii_bytes, invoice_data


def _besides_french_warnings(findings: list[dict]) -> list[dict]:
    """The test invoice lacks the reform's mentions: BR-FR warnings, on every run."""
    assert all(f["severity"] == "warning" for f in findings if f["rule"].startswith("BR-FR"))
    return [f for f in findings if not f["rule"].startswith("BR-FR")]


def _validate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backend.cli", "validate", *args],
                          capture_output=True, text=True, timeout=120, env=os.environ.copy(), check=False)


async def test_portal_rules_use_the_directory(tmp_path, recipient):
    good = tmp_path / "good.xml"
    good.write_bytes(cii_bytes())
    unknown_service = tmp_path / "service.xml"
    unknown_service.write_bytes(cii_bytes(invoice_data(**{"BT-1": "S-1", "BT-10": "INCONNU"})))
    run = _validate(str(good), str(unknown_service), "--json", "--portal")
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["valid"] for r in records] == [True, True]
    assert _besides_french_warnings(records[0]["findings"]) == []
    assert [f["rule"] for f in _besides_french_warnings(records[1]["findings"])] == ["FCT-PORTAL-05"]
    assert run.returncode == 1  # the portal would refuse the second file

    alone = _validate(str(good), "--json", "--portal")
    assert alone.returncode == 0, alone.stdout


async def test_without_portal_the_directory_is_not_consulted(tmp_path, clean_db):
    path = tmp_path / "f.xml"
    path.write_bytes(cii_bytes())
    run = _validate(str(path), "--json")
    assert run.returncode == 0 and _besides_french_warnings(json.loads(run.stdout)["findings"]) == []
