"""Helpers of the directory integration tests: fixture files and importing them."""

from __future__ import annotations

from pathlib import Path

from backend.directory.importer import ImportReport, import_directory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "directory"
PARIS = "21750001600019"
MARSEILLE = "21130055300016"
HOSPITAL = "13000123300019"
REGIE = "20004567200017"  # inactive
COLLEGE = "21330063500017"
STRASBOURG = "21670482500019"


def fixture(name: str) -> Path:
    return FIXTURES / name


async def import_fixtures(structures: str = "structures.csv", services: str | None = "services.csv") -> ImportReport:
    report = await import_directory(fixture(structures), fixture(services) if services else None)
    assert report.imported, (report.refused, [str(b) for b in report.bad])
    return report


def edited_copy(tmp_path: Path, name: str, replacements: dict[str, str]) -> Path:
    text = fixture(name).read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
