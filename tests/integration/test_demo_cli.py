"""`facteur demo` through the real console script, in a subprocess, on the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from backend.accounts.tables import Membership, User
from backend.directory.tables import Service, Structure
from backend.invoices.tables import Invoice, InvoiceHistory
from tests.support.web import post_form


def _run_demo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "demo", *args],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(), check=False,
    )


async def test_demo_is_idempotent_and_prints_json(clean_db):
    first = _run_demo("--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)  # stdout holds the JSON object alone
    assert set(data) == {"supplier", "public_structures", "support"}
    assert {"email", "password"} <= set(data["support"])
    assert {"siret", "name", "email", "password"} <= set(data["supplier"])
    counts = (await Structure.count(), await Service.count(), await User.count(), await Membership.count())
    second = _run_demo()
    assert second.returncode == 0 and "fournisseur" in second.stdout.lower()
    assert (await Structure.count(), await Service.count(), await User.count(), await Membership.count()) == counts
    assert counts[0] == 1 + len(data["public_structures"])


async def test_demo_invoices_show_every_situation_once(clean_db):
    assert _run_demo().returncode == 0
    statuses = {r["number"]: r["status"] for r in await Invoice.select(Invoice.number, Invoice.status)}
    # What the synthèse must show: waiting, in progress, to act on, paid, a recipient that never reports payment.
    assert {"MISE_A_DISPOSITION", "PRISE_EN_CHARGE", "SUSPENDUE", "REJETEE", "A_RECYCLER", "SERVICE_FAIT",
            "MISE_EN_PAIEMENT"} <= set(statuses.values())
    history = await InvoiceHistory.count()
    assert _run_demo().returncode == 0
    assert {r["number"]: r["status"] for r in await Invoice.select(Invoice.number, Invoice.status)} == statuses
    assert await InvoiceHistory.count() == history


async def test_demo_logins_work(client):
    data = json.loads(_run_demo("--json").stdout)
    for login in [data["supplier"], *[s["agent"] for s in data["public_structures"]], data["support"]]:
        response = await post_form(client, "/login", "/login", {"email": login["email"], "password": login["password"]})
        assert response.status_code == 200, login["email"]
        if login is data["support"]:  # the operator reaches the support team's queue
            assert (await client.get("/support/tickets")).status_code == 200
        await post_form(client, "/account", "/logout", {})
