"""Demo invoices: the demo supplier's invoices, through the real pipeline, in every situation.

Each one is generated as a Factur-X EN 16931 PDF, deposited like a capture, then moved by
the recipient's agent through the lifecycle, so the synthèse, the lists, the timelines
and the notifications show what a real account would. Created once: a second run finds
the supplier's invoices and adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import anyio
import msgspec

from backend.directory.tables import Structure
from backend.invoices.deposit import Upload, deposit
from backend.invoices.generation import CapturedInvoice, build_facturx
from backend.invoices.tables import DepositItem, Invoice
from backend.processing.lifecycle import Actor, Payment, change_status
from backend.settings import Settings


@dataclass
class Step:
    target: str
    reason_code: str | None = None
    comment: str = ""
    mandate_number: str | None = None
    paid: Decimal | None = None  # for MISE_EN_PAIEMENT; None means the whole amount


@dataclass
class DemoInvoice:
    number: str
    recipient_siret: str
    lines: list[tuple[str, str, str, str]]  # description, quantity, unit price, VAT rate
    service_code: str | None = None
    engagement: str | None = None
    days_ago: int = 10
    steps: list[Step] = field(default_factory=list)


VILLEBOURG, HOPITAL, EAUX = "21690123100011", "26690456400017", "25690789000014"

INVOICES = [
    DemoInvoice("F2026-0101", VILLEBOURG, [("Remplacement de 4 fenêtres, école Jules-Ferry", "4", "685.00", "20")],
                service_code="ECOLES", days_ago=1),
    DemoInvoice("F2026-0102", VILLEBOURG, [("Réparation du portail de la mairie", "1", "420.00", "20"),
                                           ("Déplacement", "1", "45.00", "20")],
                service_code="TECH", days_ago=6, steps=[Step("PRISE_EN_CHARGE")]),
    DemoInvoice("F2026-0103", VILLEBOURG, [("Étagères sur mesure, bibliothèque municipale", "12", "96.50", "20")],
                service_code="FIN", days_ago=12,
                steps=[Step("PRISE_EN_CHARGE"), Step("SUSPENDUE", "JUSTIF_ABS", "Merci de joindre le bon de livraison signé.")]),
    DemoInvoice("F2026-0104", HOPITAL, [("Mobilier de salle d'attente", "6", "310.00", "20")],
                engagement="EJ-2026-0457", days_ago=15,
                steps=[Step("REJETEE", "CMD_ERR", "Le bon de commande EJ-2026-0457 ne correspond pas à cette livraison.")]),
    DemoInvoice("F2026-0105", HOPITAL, [("Portes coupe-feu, service de pharmacie", "2", "1480.00", "20")],
                engagement="EJ-2026-0311", days_ago=40,
                steps=[Step("SERVICE_FAIT"), Step("MANDATEE", mandate_number="M-2026-1187"), Step("MISE_EN_PAIEMENT")]),
    DemoInvoice("F2026-0106", EAUX, [("Habillage bois du local technique", "1", "2350.00", "20")],
                days_ago=25, steps=[Step("SERVICE_FAIT")]),
    DemoInvoice("F2026-0107", VILLEBOURG, [("Pose de plinthes, salle des fêtes", "35", "18.40", "20")],
                service_code="FIN", days_ago=9,
                steps=[Step("A_RECYCLER", "CODE_ROUTAGE_ERR", "Ces travaux relèvent des services techniques (TECH).")]),
    DemoInvoice("F2026-0108", HOPITAL, [("Aménagement de la lingerie", "1", "5200.00", "20")],
                engagement="EJ-2026-0502", days_ago=60,
                steps=[Step("SERVICE_FAIT"), Step("MISE_EN_PAIEMENT", paid=Decimal("3000.00"))]),
]


def _captured(spec: DemoInvoice, supplier: Structure, recipient: Structure) -> CapturedInvoice:
    issue = date.today() - timedelta(days=spec.days_ago)

    def address(s: Structure) -> dict:
        return {"line1": s.address_line1 or "", "postal_code": s.postal_code or "", "city": s.city or "", "country": "FR"}

    raw = {
        "number": spec.number, "issue_date": issue.isoformat(), "due_date": (issue + timedelta(days=30)).isoformat(),
        "service_code": spec.service_code, "engagement": spec.engagement,
        "seller": {"name": supplier.name, "siret": supplier.siret, "address": address(supplier),
                   "vat_id": supplier.vat_number or None, "iban": supplier.iban or None, "bic": supplier.bic or None},
        "buyer": {"name": recipient.name, "siret": recipient.siret, "address": address(recipient)},
        "lines": [{"description": d, "quantity": q, "unit_price": p, "vat_rate": v, "unit_code": "C62"} for d, q, p, v in spec.lines],
    }
    return msgspec.convert(raw, CapturedInvoice, strict=False)


async def _deposit_one(settings: Settings, spec: DemoInvoice, supplier: Structure, user_id: int) -> int:
    recipient = await Structure.objects().get(Structure.siret == spec.recipient_siret)
    pdf = await anyio.to_thread.run_sync(build_facturx, _captured(spec, supplier, recipient), [])
    deposit_id = await deposit(settings, supplier, user_id, [Upload(f"{spec.number}.pdf", pdf)], channel="capture")
    item = await DepositItem.select(DepositItem.invoice).where(DepositItem.deposit == deposit_id).first()
    if not item or not item["invoice"]:
        raise RuntimeError(f"la facture de démonstration {spec.number} a été refusée au dépôt")
    return item["invoice"]


async def _process(invoice_id: int, steps: list[Step], agent_id: int) -> None:
    agent = Actor("recipient", user_id=agent_id)
    for step in steps:
        invoice = await Invoice.objects().get(Invoice.id == invoice_id)
        payment = None
        if step.target == "MISE_EN_PAIEMENT":
            payment = Payment(date.today(), step.paid if step.paid is not None else Decimal(invoice.amount_due))
        await change_status(invoice_id, agent, step.target, expected_version=invoice.version, reason_code=step.reason_code,
                            comment=step.comment, mandate_number=step.mandate_number, payment=payment)


async def load_demo_invoices(settings: Settings, supplier_user_id: int, agents: dict[str, int]) -> int:
    """The demo invoices, unless the demo supplier already has invoices; returns how many were created."""
    supplier = await Structure.objects().get(Structure.siret == "12345678200010")
    if await Invoice.exists().where(Invoice.supplier == supplier.id):
        return 0
    for spec in INVOICES:
        invoice_id = await _deposit_one(settings, spec, supplier, supplier_user_id)
        await _process(invoice_id, spec.steps, agents[spec.recipient_siret])
    return len(INVOICES)
