"""Two suppliers, two public structures and their people; invoices written straight to the tables.

Workspace tests need many invoices in chosen statuses and dates: depositing each through
the validation pipeline would test the pipeline again, slowly. The rows are the ones a
deposit writes (invoice, its history, a stored original); the lifecycle then moves them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from backend.accounts import passwords
from backend.accounts.tables import Membership, User
from backend.lib.common import fold, utcnow
from backend.directory.tables import Service, Structure
from backend.invoices.statuses import STATUSES
from backend.invoices.tables import Invoice, InvoiceHistory, StoredFile
from tests.support.accounts import Person, valid_siret

PASSWORD = "mot-de-passe-solide"
_n = itertools.count(1)
_people = itertools.count(1)


async def structure(name: str, *, public: bool, reports_payment: bool = True, services: tuple[str, ...] = ()) -> Structure:
    siret = valid_siret()
    row = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=public,
                    reports_payment=reports_payment, active=True, address_line1="1 rue de la Paix", postal_code="75002", city="Paris")
    await row.save()
    for code in services:
        await Service.insert(Service(structure=row.id, code=code, name=f"Service {code}", active=True))
    return row


async def person(structure_id: int, **rights) -> Person:
    n = next(_people)
    email = f"ws{n}-{structure_id}@exemple.fr"
    user = User(email=email, password_hash=await passwords.hash_password(PASSWORD), first_name="Camille", last_name=f"N{n}",
                email_confirmed_at=utcnow())
    await user.save()
    await Membership.insert(Membership(user=user.id, structure=structure_id, status="active", can_consult=True, **rights))
    return Person(email, PASSWORD, "", "")


async def make_invoice(supplier: Structure, recipient: Structure, *, status: str = "MISE_A_DISPOSITION",
                       issue_date: date | None = None, amount: str = "120.00", number: str | None = None,
                       service_code: str = "", acknowledged: bool = False) -> Invoice:
    n = next(_n)
    file = await StoredFile.objects().get(StoredFile.sha256 == "0" * 64)
    if file is None:
        file = StoredFile(sha256="0" * 64, size=1, media_type="application/pdf")
        await file.save()
    issue_date = issue_date or date(2026, 3, 1) + timedelta(days=n % 200)
    total = Decimal(amount)
    invoice = Invoice(
        supplier=supplier.id, recipient=recipient.id, original_file=file.id, original_name=f"f{n}.pdf", format="facturx-pdf",
        profile="EN16931", number=number or f"F2026-{n:05d}", number_year=issue_date.year, type_code="380",
        issue_date=issue_date, currency="EUR", service_code=service_code, seller_siret=supplier.siret, buyer_siret=recipient.siret,
        seller_name=supplier.name, buyer_name=recipient.name, total_excl_vat=total, total_vat=Decimal("0"),
        total_incl_vat=total, amount_due=total, data='{"syntax": "CII", "lines": []}', status=status,
        status_code=STATUSES[status].code_2026, certificate_number=f"AD-TEST-{n:08d}",
    )
    await invoice.save()
    steps = [("DEPOSEE", "supplier"), ("MISE_A_DISPOSITION", "platform")]
    if status not in ("DEPOSEE", "MISE_A_DISPOSITION"):
        steps.append((status, "recipient"))
    if acknowledged:
        steps.append(("REJETEE", "supplier"))
    await InvoiceHistory.insert(*(
        InvoiceHistory(invoice=invoice.id, status=s, status_code=STATUSES[s].code_2026, actor_kind=kind,
                       reason_code="DOUBLON" if s == "REJETEE" and kind == "recipient" else "",
                       details='{"acknowledged": true}' if kind == "supplier" and s == "REJETEE" else "{}")
        for s, kind in steps))
    return invoice


@dataclass
class World:
    s1: Structure  # the supplier under test
    s2: Structure  # another supplier
    r1: Structure  # a commune with services, that reports payment
    r2: Structure  # a hospital that never reports payment
    supplier: Person  # member of s1 with deposit right
    other_supplier: Person  # member of s2
    agent: Person  # agent of r1 with processing right
    other_agent: Person  # agent of r2


@pytest.fixture
async def world(clean_db) -> World:
    s1 = await structure("Menuiserie Dupont", public=False)
    s2 = await structure("Plomberie Martin", public=False)
    r1 = await structure("Commune de Lille", public=True, services=("VOIRIE", "ECOLES"))
    r2 = await structure("Hôpital de Nantes", public=True, reports_payment=False)
    return World(s1, s2, r1, r2, await person(s1.id, can_deposit=True, is_manager=True), await person(s2.id, can_deposit=True),
                 await person(r1.id, can_process=True), await person(r2.id, can_process=True))
