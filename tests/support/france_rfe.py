"""The FNFE France_RFE artefacts of the shared folder (<repo>/../shared/specs/france-rfe, or
FACTEUR_FRANCE_RFE_DIR): the official sources the lifecycle tests compare the product with."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import require_component

REPO = Path(__file__).resolve().parents[2]


def france_rfe_dir() -> Path:
    return Path(os.environ.get("FACTEUR_FRANCE_RFE_DIR") or REPO.parent / "shared" / "specs" / "france-rfe")


def require_france_rfe() -> Path:
    """The folder, or a skip (a failure under CI=true) when it is not there."""
    folder = france_rfe_dir()
    require_component((folder / "SOURCE.md").is_file(), f"Le dossier des artefacts FNFE France_RFE ({folder})")
    return folder / "FNFE_RFE_INVOICE"
