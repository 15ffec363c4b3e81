"""Example captured invoices (demo data, tests, benchmark). Fictitious companies;
identifiers are syntactically valid (SIRET Luhn keys, FR VAT keys, IBAN keys)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .model import Address, Buyer, CapturedInvoice, InvoiceLine, Seller

SELLER_SIRET = "73282932000074"
SELLER_VAT = "FR44732829320"
BUYER_SIRET = "21750001600019"


def french_vat(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def seller(**overrides: object) -> Seller:
    values: dict = {
        "name": "Menuiserie Dupont SARL",
        "siret": SELLER_SIRET,
        "vat_id": SELLER_VAT,
        "address": Address(
            line1="12 rue des Artisans", line2="Zone artisanale du Rhône", postal_code="69003", city="Lyon"
        ),
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP",
        "email": "compta@menuiserie-dupont.fr",
        "legal_info": "SARL au capital de 10 000 € – RCS Lyon 732 829 320",
    }
    values.update(overrides)
    return Seller(**values)


def buyer(**overrides: object) -> Buyer:
    values: dict = {
        "name": "Commune de Paris – Direction des affaires scolaires",
        "siret": BUYER_SIRET,
        "address": Address(line1="Place de l'Hôtel de Ville", postal_code="75004", city="Paris"),
    }
    values.update(overrides)
    return Buyer(**values)


def line(
    description: str, quantity: str, unit_price: str, vat_rate: str = "20", **extra: object
) -> InvoiceLine:
    return InvoiceLine(
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        vat_rate=Decimal(vat_rate),
        **extra,  # type: ignore[arg-type]
    )


def invoice(**overrides: object) -> CapturedInvoice:
    """A plain A1 invoice at 20 %, payable by transfer in 30 days."""
    values: dict = {
        "number": "F2026-0042",
        "issue_date": dt.date(2026, 3, 2),
        "due_date": dt.date(2026, 4, 1),
        "seller": seller(),
        "buyer": buyer(),
        "service_code": "DASCO-ECOLES",
        "engagement": "EJ-2026-000123",
        "lines": [
            line("Porte coupe-feu en chêne, pose comprise", "3", "1250.00"),
            line("Main d'œuvre : ajustement des huisseries", "7.5", "48.00", unit_code="HUR"),
        ],
    }
    values.update(overrides)
    return CapturedInvoice(**values)


def many_lines_invoice(count: int = 50, number: str = "F2026-0050") -> CapturedInvoice:
    rates = ("20", "10", "5.5", "2.1")
    lines = [
        line(
            f"Fourniture n° {i + 1} : article de quincaillerie référence Q-{1000 + i}",
            f"{(i % 7) + 1}.{(i * 37) % 10000:04d}",
            f"{(i * 13) % 200 + 0.335:.4f}",
            rates[i % len(rates)],
        )
        for i in range(count)
    ]
    return invoice(number=number, lines=lines)
