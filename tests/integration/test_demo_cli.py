"""`facteur demo` through the real console script, in a subprocess, on the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from backend.accounts.tables import Membership, User
from backend.directory.tables import Service, Structure
from backend.invoices.tables import Invoice, InvoiceHistory
from backend.works.tables import BillingFile, Market, MarketActor
from tests.support.database import Snapshot, restore_rows, snapshot_rows, truncate_all
from tests.support.web import post_form


def _run_demo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "demo", *args],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(), check=False,
    )


@dataclass
class DemoRuns:
    """`facteur demo --json` on an empty database, then `facteur demo` again: each run takes
    10-20 s (a process that warms the validators and renders the invoices), so the module
    runs them once; each test gets the database as the second run left it."""
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    counts_after_first: tuple[int, int, int, int]
    statuses_after_first: dict[str, str]
    history_after_first: int
    rows: Snapshot


async def _counts() -> tuple[int, int, int, int]:
    return (await Structure.count(), await Service.count(), await User.count(), await Membership.count())


@pytest.fixture(scope="module")
async def demo_runs(migrated_db) -> DemoRuns:
    await truncate_all()
    first = _run_demo("--json")
    counts = await _counts()
    statuses = {r["number"]: r["status"] for r in await Invoice.select(Invoice.number, Invoice.status)}
    history = await InvoiceHistory.count()
    second = _run_demo()
    return DemoRuns(first, second, counts, statuses, history, await snapshot_rows())


@pytest.fixture
async def demo(clean_db, demo_runs) -> DemoRuns:
    """The database after the two runs, row for row."""
    await restore_rows(demo_runs.rows)
    return demo_runs


async def test_demo_is_idempotent_and_prints_json(demo):
    first = demo.first
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)  # stdout holds the JSON object alone
    assert set(data) == {"supplier", "public_structures", "support", "works", "justice"}
    assert {"siret", "email", "password"} <= set(data["justice"]["expert"]) and {"siret", "email", "password"} <= set(data["justice"]["agent"])
    assert {"email", "password"} <= set(data["support"])
    assert {"siret", "name", "email", "password"} <= set(data["supplier"])
    # The works market's six accounts, one per role.
    assert sorted(w["role"] for w in data["works"]) == sorted(["moa", "moe", "payer", "titulaire", "cotraitant", "sous_traitant"])
    assert all({"email", "password", "siret", "role"} <= set(w) for w in data["works"])
    counts = demo.counts_after_first
    second = demo.second
    assert second.returncode == 0 and "fournisseur" in second.stdout.lower()
    assert (await Structure.count(), await Service.count(), await User.count(), await Membership.count()) == counts
    await _check_works_market(data["works"])
    assert counts[0] == 1 + len(data["public_structures"]) + len(data["works"]) + len(data["justice"]["juridictions"]) + 1


async def test_demo_invoices_show_every_situation_once(demo):
    assert demo.first.returncode == 0
    statuses = demo.statuses_after_first
    # What the synthèse must show: waiting, in progress, to act on, paid, a recipient that never reports payment.
    assert {"MISE_A_DISPOSITION", "PRISE_EN_CHARGE", "SUSPENDUE", "REJETEE", "A_RECYCLER", "SERVICE_FAIT",
            "MISE_EN_PAIEMENT"} <= set(statuses.values())
    history = demo.history_after_first
    assert demo.second.returncode == 0
    assert {r["number"]: r["status"] for r in await Invoice.select(Invoice.number, Invoice.status)} == statuses
    assert await InvoiceHistory.count() == history


async def test_demo_logins_work(client, demo):
    data = json.loads(demo.first.stdout)
    for login in [data["supplier"], *[s["agent"] for s in data["public_structures"]], data["support"], *data["works"],
                  data["justice"]["expert"], data["justice"]["agent"]]:
        response = await post_form(client, "/login", "/login", {"email": login["email"], "password": login["password"]})
        assert response.status_code == 200, login["email"]
        if login is data["support"]:  # the operator reaches the support team's queue
            assert (await client.get("/support/tickets")).status_code == 200
        await post_form(client, "/account", "/logout", {})
    # The titulaire finds the demo market in "Travaux", with its actors.
    titulaire = next(w for w in data["works"] if w["role"] == "titulaire")
    await post_form(client, "/login", "/login", {"email": titulaire["email"], "password": titulaire["password"]})
    workspace = await client.get("/works")
    assert workspace.status_code == 200 and "2026-TX-014" in workspace.text and "2026-TX-021" in workspace.text
    market_id = (await Market.objects().get(Market.number == "2026-TX-014")).id
    page = await client.get(f"/works/markets/{market_id}")
    assert page.status_code == 200 and "Jules-Ferry" in page.text and "Plomberie Morel" in page.text
    await post_form(client, "/account", "/logout", {})
    # The juridiction's agent finds the demo mémoire among those received.
    agent = data["justice"]["agent"]
    await post_form(client, "/login", "/login", {"email": agent["email"], "password": agent["password"]})
    received = await client.get("/justice")
    assert received.status_code == 200 and "Mémoires reçus (1)" in received.text and "Cabinet Lefèvre Expertises" in received.text


async def _check_works_market(works: list[dict]) -> None:
    """Three markets (one active, one finished with its final account at the signature, one waiting for its MOA) and a dossier, after two runs; the six accounts act in the first,
    whose monthly statements stand at several steps: paid, waiting for the MOA (corrected), waiting for the MOE."""
    assert (await Market.count(), await BillingFile.count()) == (3, 5)
    pieces = {r["number"]: r["status"] for r in await Invoice.select(Invoice.number, Invoice.status).where(Invoice.market.is_not_null())}
    assert pieces == {"DM-2026-09": "PRISE_EN_COMPTE_MOE", "DM-2026-09-EA": "PRISE_EN_COMPTE_MOA", "DM-2026-09-EAV": "MISE_EN_PAIEMENT",
                      "DM-2026-10": "PRISE_EN_COMPTE_MOE", "DM-2026-10-EA": "MISE_A_DISPOSITION_MOA",
                      "DM-2026-11": "MISE_A_DISPOSITION_MOE",
                      # the finished market's final account, at the titulaire's signature
                      "DF-2025-031": "PRISE_EN_COMPTE_MOE", "DF-2025-031-PDG": "PRISE_EN_COMPTE_MOA", "DF-2025-031-DG": "A_SIGNER_TITULAIRE"}
    active = await Market.objects().get(Market.number == "2026-TX-014")
    assert active.status == "active"
    assert (await Market.objects().get(Market.number == "2026-TX-021")).status == "pending"
    rows = await MarketActor.select(MarketActor.structure.siret, MarketActor.role).where(MarketActor.market == active.id)
    assert {(r["structure.siret"], r["role"]) for r in rows} == {(w["siret"], w["role"]) for w in works}

