"""« Exporter »: the invoice lists of both sides and the deposits history, as CSV and XLSX, with the list's filters."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
from datetime import date, datetime, timedelta

import anyio
import openpyxl
from litestar import Litestar

from backend.accounts.tables import User
from backend.invoices import export
from backend.invoices.tables import Deposit, Invoice
from backend.processing import lifecycle
from backend.processing.lifecycle import Actor, Payment
from tests.integration.workspaces.conftest import make_invoice

HEADER = [c.title for c in export.INVOICE_COLUMNS]


def parsed_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(codecs.BOM_UTF8), "Excel reads UTF-8 only after a BOM"
    return list(csv.reader(io.StringIO(body[len(codecs.BOM_UTF8):].decode("utf-8"), newline=""), delimiter=";"))


def as_dicts(table: list[list]) -> list[dict]:
    return [dict(zip(table[0], row)) for row in table[1:]]


def sheet_rows(body: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


async def _user_id(person) -> int:
    return (await User.objects().get(User.email == person.email)).id


async def _paid_invoice(world, agent) -> Invoice:
    """An invoice mandated (n° M-2026-042) then paid in two parts, through the lifecycle."""
    invoice = await make_invoice(world.s1, world.r1, issue_date=date(2026, 5, 2), amount="300.00", number="F-PAID")
    await lifecycle.change_status(invoice.id, agent, "MANDATEE", expected_version=None, mandate_number="M-2026-042")
    await lifecycle.change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=None,
                                  payment=Payment(date(2026, 6, 1), "100.00"))
    await lifecycle.change_status(invoice.id, agent, "MISE_EN_PAIEMENT", expected_version=None,
                                  payment=Payment(date(2026, 6, 15), "50.50"))
    return invoice


async def test_supplier_csv_is_french_with_every_column_and_only_its_own_invoices(client, accounts, world):
    agent = Actor("recipient", await _user_id(world.agent))
    await make_invoice(world.s1, world.r1, status="SUSPENDUE", issue_date=date(2026, 2, 1), amount="1234.50", number="F-SUSP")
    await _paid_invoice(world, agent)
    await make_invoice(world.s2, world.r1, number="B-OTHER")  # another supplier's, same recipient
    await accounts.login(world.supplier)

    response = await client.get("/invoices/export?format=csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="factures-' in response.headers["content-disposition"]
    table = parsed_csv(response.content)
    assert table[0] == HEADER
    rows = as_dicts(table)
    assert [r["N° de facture"] for r in rows] == ["F-PAID", "F-SUSP"]  # the list's order, newest first
    assert "B-OTHER" not in response.content.decode("utf-8-sig")
    suspended, paid = rows[1], rows[0]
    assert suspended["Montant TTC"] == "1234,50" and suspended["Montant HT"] == "1234,50" and suspended["Montant TVA"] == "0,00"
    assert suspended["Date d'émission"] == "01/02/2026" and suspended["Type"] == "Facture"
    assert suspended["Statut"] == "Suspendue" and suspended["Code statut 2026"] == "208"
    assert suspended["Fournisseur"] == "Menuiserie Dupont" and suspended["SIRET du fournisseur"] == world.s1.siret
    assert suspended["Destinataire"] == "Commune de Lille" and suspended["SIRET du destinataire"] == world.r1.siret
    assert suspended["N° de mandat"] == "" and suspended["Date de paiement"] == "" and suspended["Montant payé"] == ""
    assert paid["Statut"] == "Mise en paiement" and paid["Code statut 2026"] == "211"
    assert paid["N° de mandat"] == "M-2026-042"
    assert paid["Date de paiement"] == "15/06/2026" and paid["Montant payé"] == "150,50"  # two partial payments
    assert paid["Date du dernier statut"] == datetime.now(export.PARIS).strftime("%d/%m/%Y")


async def test_the_export_applies_the_lists_filters(client, accounts, world):
    await make_invoice(world.s1, world.r1, status="SUSPENDUE", issue_date=date(2026, 2, 1), amount="50.00", number="F-SUSP")
    await make_invoice(world.s1, world.r2, status="MANDATEE", issue_date=date(2026, 3, 1), amount="1500.00", number="F-MAND")
    await make_invoice(world.s1, world.r1, status="MISE_EN_PAIEMENT", issue_date=date(2026, 4, 1), amount="300.00", number="F-PAY")
    await accounts.login(world.supplier)

    async def exported(query: str) -> list[str]:
        response = await client.get(f"/invoices/export?format=csv&{query}")
        assert response.status_code == 200, response.text
        return [r["N° de facture"] for r in as_dicts(parsed_csv(response.content))]

    assert await exported("") == ["F-PAY", "F-MAND", "F-SUSP"]
    assert await exported("status=a_traiter") == ["F-SUSP"]
    assert await exported(f"party={world.r2.id}") == ["F-MAND"]
    assert await exported("du=2026-02-15&au=2026-03-31") == ["F-MAND"]
    assert await exported("min=100&max=1000") == ["F-PAY"]
    assert await exported("q=pay") == ["F-PAY"]
    # The page shown (a cursor) does not limit the export: it is the whole list.
    assert await exported("after=2026-03-01_999999999") == ["F-PAY", "F-MAND", "F-SUSP"]


async def test_agent_exports_received_invoices_of_the_structure_only(client, accounts, world):
    await make_invoice(world.s1, world.r1, service_code="VOIRIE", number="R-VOIRIE", issue_date=date(2026, 3, 2))
    await make_invoice(world.s2, world.r1, service_code="ECOLES", number="R-ECOLES", issue_date=date(2026, 3, 1))
    await make_invoice(world.s1, world.r2, number="R-HOPITAL")  # another public structure's
    await accounts.login(world.agent)

    response = await client.get("/invoices/export?format=csv")
    assert 'filename="factures-recues-' in response.headers["content-disposition"]
    rows = as_dicts(parsed_csv(response.content))
    assert [(r["N° de facture"], r["Fournisseur"], r["Code service"]) for r in rows] == [
        ("R-VOIRIE", "Menuiserie Dupont", "VOIRIE"), ("R-ECOLES", "Plomberie Martin", "ECOLES")]
    filtered = as_dicts(parsed_csv((await client.get("/invoices/export?format=csv&service=ECOLES")).content))
    assert [r["N° de facture"] for r in filtered] == ["R-ECOLES"]
    assert "R-HOPITAL" not in (await client.get("/invoices/export?format=xlsx")).content.decode("latin-1")


async def test_xlsx_has_the_same_values_with_numeric_and_date_cells(client, accounts, world):
    agent = Actor("recipient", await _user_id(world.agent))
    await make_invoice(world.s1, world.r1, status="SUSPENDUE", issue_date=date(2026, 2, 1), amount="1234.56", number="F-SUSP")
    await _paid_invoice(world, agent)
    await make_invoice(world.s2, world.r1, number="B-OTHER")
    await accounts.login(world.supplier)

    response = await client.get("/invoices/export?format=xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == export.MEDIA_TYPES["xlsx"]
    assert 'filename="factures-' in response.headers["content-disposition"] and ".xlsx" in response.headers["content-disposition"]
    table = sheet_rows(response.content)
    assert table[0] == HEADER
    rows = as_dicts(table)
    assert [r["N° de facture"] for r in rows] == ["F-PAID", "F-SUSP"]
    suspended, paid = rows[1], rows[0]
    assert isinstance(suspended["Montant TTC"], float) and suspended["Montant TTC"] == 1234.56
    assert suspended["Date d'émission"] == datetime(2026, 2, 1)  # a date cell, not text
    assert suspended["SIRET du fournisseur"] == world.s1.siret  # text: 14 digits kept as typed
    assert suspended["Statut"] == "Suspendue" and suspended["Code statut 2026"] == "208"
    assert paid["Montant payé"] == 150.5 and paid["Date de paiement"] == datetime(2026, 6, 15)
    assert paid["N° de mandat"] == "M-2026-042"
    # The CSV says the same.
    csv_rows = as_dicts(parsed_csv((await client.get("/invoices/export?format=csv")).content))
    assert [r["Montant TTC"] for r in csv_rows] == ["300,00", "1234,56"]


async def test_a_formula_typed_as_an_invoice_number_stays_text(client, accounts, world):
    await make_invoice(world.s1, world.r1, number="=HYPERLINK(\"http://x\";\"ok\")")
    await accounts.login(world.agent)
    rows = as_dicts(parsed_csv((await client.get("/invoices/export?format=csv")).content))
    assert rows[0]["N° de facture"] == "'=HYPERLINK(\"http://x\";\"ok\")"
    book = openpyxl.load_workbook(io.BytesIO((await client.get("/invoices/export?format=xlsx")).content))
    cell = book.worksheets[0]["A2"]
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"http://x\";\"ok\")"


async def test_deposits_history_export_lists_the_structures_deposits_only(client, accounts, world):
    await Deposit.insert(
        Deposit(structure=world.s1.id, channel="web", state="IN_INTEGRE", file_count=2, accepted_count=2),
        Deposit(structure=world.s1.id, channel="api", state="IN_REJETE", file_count=1, rejected_count=1),
        Deposit(structure=world.s2.id, channel="zip", state="IN_INTEGRE_PARTIEL", file_count=5, accepted_count=4, rejected_count=1),
    )
    await accounts.login(world.supplier)
    page = await client.get("/deposits")
    assert 'href="/deposits/export?format=csv"' in page.text
    response = await client.get("/deposits/export?format=csv")
    assert 'filename="depots-' in response.headers["content-disposition"]
    rows = as_dicts(parsed_csv(response.content))
    assert [(r["Canal"], r["État"], r["Fichiers"], r["Intégrés"], r["Refusés"]) for r in rows] == [
        ("API", "Rejeté", "1", "0", "1"), ("Dépôt en ligne", "Intégré", "2", "2", "0")]
    assert rows[0]["Date"].startswith(datetime.now(export.PARIS).strftime("%d/%m/%Y "))
    sheet = as_dicts(sheet_rows((await client.get("/deposits/export?format=xlsx")).content))
    assert [(r["Canal"], r["Fichiers"]) for r in sheet] == [("API", 1), ("Dépôt en ligne", 2)]
    assert isinstance(sheet[0]["Date"], datetime)


async def test_the_list_offers_the_export_with_its_filters(client, accounts, world):
    await make_invoice(world.s1, world.r1, status="SUSPENDUE", number="F-SUSP")
    await accounts.login(world.supplier)
    page = await client.get("/invoices?status=a_traiter&q=susp")
    assert "Exporter" in page.text
    assert 'href="/invoices/export?status=a_traiter&amp;q=susp&amp;format=csv"' in page.text
    assert 'href="/invoices/export?status=a_traiter&amp;q=susp&amp;format=xlsx"' in page.text
    fragment = await client.get("/invoices?status=payees", headers={"HX-Request": "true", "HX-Target": "invoice-results"})
    assert "Exporter" not in fragment.text  # no invoice: nothing to export
    fragment = await client.get("/invoices?q=susp", headers={"HX-Request": "true", "HX-Target": "invoice-results"})
    assert 'href="/invoices/export?q=susp&amp;format=csv"' in fragment.text  # redrawn with the new filters


async def test_unknown_format_and_no_access_answer_in_french(client, accounts, world):
    await accounts.login(world.supplier)
    response = await client.get("/invoices/export?format=pdf")
    assert response.status_code == 400 and "Format d'export inconnu" in response.text.replace("&#39;", "'")
    stranger = await accounts.registered()  # a company of their own, nothing of s1's
    assert stranger
    rows = as_dicts(parsed_csv((await client.get("/invoices/export")).content))
    assert rows == []
    await accounts.logout()
    anonymous = await client.get("/invoices/export", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]


# --- streaming --------------------------------------------------------------------------------------

async def _bulk_invoices(world, count: int) -> None:
    template = await make_invoice(world.s1, world.r1, number="BULK-00000", issue_date=date(2026, 1, 1))
    base = {k: v for k, v in template.to_dict().items() if k != "id"}
    rows = [Invoice(**{**base, "number": f"BULK-{n:05d}", "certificate_number": f"AD-BULK-{n:08d}",
                       "issue_date": date(2026, 1, 1) + timedelta(days=n % 300)}) for n in range(1, count)]
    for start in range(0, len(rows), 500):
        await Invoice.insert(*rows[start:start + 500])


async def _asgi_get(client, app: Litestar, path: str, query: str, cookie: str) -> list[dict]:
    """Every message the app sends for one GET, as a server would receive them; run in the
    test client's event loop (the one the app's database and Redis clients belong to)."""
    return await anyio.to_thread.run_sync(client.blocking_portal.call, _asgi_call, app, path, query, cookie)


async def _asgi_call(app: Litestar, path: str, query: str, cookie: str) -> list[dict]:
    messages: list[dict] = []
    disconnected = asyncio.Event()
    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnected.wait()  # the client stays until the response is complete, as a server says
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            disconnected.set()

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"127.0.0.1:8000"), (b"cookie", cookie.encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    await asyncio.wait_for(app(scope, receive, send), 120)
    return messages


async def test_a_long_export_is_streamed_in_several_chunks(app, client, accounts, world):
    count = 3 * export.BATCH
    await _bulk_invoices(world, count)
    await accounts.login(world.supplier)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())

    messages = await _asgi_get(client, app, "/invoices/export", "format=csv", cookie)
    assert messages[0]["type"] == "http.response.start" and messages[0]["status"] == 200
    chunks = [m["body"] for m in messages[1:] if m["type"] == "http.response.body" and m.get("body")]
    assert len(chunks) >= 3, f"{len(chunks)} chunk(s): the CSV was not streamed"
    assert max(len(c) for c in chunks) < len(b"".join(chunks)) / 2  # no chunk holds most of the file
    rows = as_dicts(parsed_csv(b"".join(chunks)))
    assert len(rows) == count and len({r["N° de facture"] for r in rows}) == count

    messages = await _asgi_get(client, app, "/invoices/export", "format=xlsx", cookie)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    assert len(sheet_rows(body)) == count + 1


# --- the API ----------------------------------------------------------------------------------------

async def test_api_exports_the_same_csv_with_the_sites_filters(client, world):
    from tests.integration.api.conftest import key_for

    await make_invoice(world.s1, world.r1, status="SUSPENDUE", issue_date=date(2026, 2, 1), amount="50.00", number="F-SUSP")
    await make_invoice(world.s1, world.r2, status="MANDATEE", issue_date=date(2026, 3, 1), amount="1500.00", number="F-MAND")
    await make_invoice(world.s2, world.r1, service_code="ECOLES", number="B-OTHER")
    supplier = await key_for(client, world.s1, ("read",))

    response = await supplier.get("/api/v1/invoices/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    table = parsed_csv(response.content)
    assert table[0] == HEADER and [r["N° de facture"] for r in as_dicts(table)] == ["F-MAND", "F-SUSP"]
    only = as_dicts(parsed_csv((await supplier.get("/api/v1/invoices/export?status=a_traiter&min=10")).content))
    assert [(r["N° de facture"], r["Montant TTC"]) for r in only] == [("F-SUSP", "50,00")]
    assert (await supplier.get("/api/v1/invoices")).headers["content-type"].startswith("application/json")  # unchanged

    bad = await supplier.get("/api/v1/invoices/export?du=31/02/2026")
    assert bad.status_code == 422 and bad.json()["code"] == "filter_invalid" and "31/02/2026" in bad.json()["detail"]
    no_read = await key_for(client, world.s1, ("deposit",))
    assert (await no_read.get("/api/v1/invoices/export")).status_code == 403

    commune = await key_for(client, world.r1, ("read",))
    received = as_dicts(parsed_csv((await commune.get("/api/v1/received/export?service=ECOLES")).content))
    assert [(r["N° de facture"], r["Fournisseur"]) for r in received] == [("B-OTHER", "Plomberie Martin")]
