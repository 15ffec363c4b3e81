"""Small invoices built by the tests themselves (a fresh clone has no corpus).

A French EN 16931 invoice is described once as a factur-x data dict (business terms
BT-xx), then generated as CII and as UBL with factur-x's own generator, and embedded
in a one-page PDF with factur-x's ``generate_from_binary``.
"""

from __future__ import annotations

import copy
import datetime as dt
import io

import facturx
from pypdf import PdfWriter

SELLER_SIRET = "73282932000074"
SELLER_SIREN = "732829320"
BUYER_SIRET = "21750001600019"

BASE_INVOICE: dict = {
    "BT-1": "F2026-0042",
    "BT-2": dt.date(2026, 3, 2),
    "BT-3": "380",
    "BT-5": "EUR",
    "BT-9": dt.date(2026, 4, 1),
    "BT-72": dt.date(2026, 2, 27),
    "BT-10": "SERVICE-COMPTA",
    "BT-13": "EJ-2026-000123",
    "BT-23": "A1",
    "BT-24": "urn:cen.eu:en16931:2017",
    "BG-4": {
        "name": "Menuiserie Dupont SARL",
        "identifiers": {"0009": SELLER_SIRET},
        "legal_identifier": SELLER_SIREN,
        "legal_identifier_schemeid": "0002",
        "vat_identifier": "FR44732829320",
        "einvoicing_addr": SELLER_SIRET,
        "einvoicing_addr_schemeid": "0009",
        "addr_l1": "12 rue des Artisans",
        "city": "Lyon",
        "postcode": "69003",
        "country_code": "FR",
    },
    "BG-7": {
        "name": "Commune de Paris",
        "identifiers": {"0009": BUYER_SIRET},
        "legal_identifier": BUYER_SIRET[:9],
        "legal_identifier_schemeid": "0002",
        "einvoicing_addr": BUYER_SIRET,
        "einvoicing_addr_schemeid": "0009",
        "addr_l1": "Place de l'Hôtel de Ville",
        "city": "Paris",
        "postcode": "75004",
        "country_code": "FR",
    },
    "BT-81": "30",
    "BT-84": "FR7630006000011234567890189",
    "BG-25": [
        {
            "BT-126": "1",
            "BT-129": "3.0000",
            "BT-130": "C62",
            "BT-131": "300.00",
            "BT-146": "100.0000",
            "BT-151": "S",
            "BT-152": "20.00",
            "BT-153": "Porte en chêne",
        },
        {
            "BT-126": "2",
            "BT-129": "2.0000",
            "BT-130": "HUR",
            "BT-131": "90.00",
            "BT-146": "45.0000",
            "BT-151": "S",
            "BT-152": "20.00",
            "BT-153": "Pose",
        },
    ],
    "BG-23": [{"BT-116": "390.00", "BT-117": "78.00", "BT-118": "S", "BT-119": "20.00"}],
    "BT-106": "390.00",
    "BT-109": "390.00",
    "BT-110": "78.00",
    "BT-112": "468.00",
    "BT-113": "0.00",
    "BT-115": "468.00",
}


def invoice_data(**overrides: object) -> dict:
    data = copy.deepcopy(BASE_INVOICE)
    data.update(overrides)
    return data


def cii_bytes(data: dict | None = None) -> bytes:
    data = copy.deepcopy(data or BASE_INVOICE)
    xml = facturx.generate_xml(data, flavor="factur-x", check_xsd=False, check_schematron=False)
    return xml if isinstance(xml, bytes) else xml.encode("utf-8")


def ubl_bytes(data: dict | None = None) -> bytes:
    data = copy.deepcopy(data or BASE_INVOICE)
    xml = facturx.generate_xml(data, flavor="ubl-2.1", check_xsd=False, check_schematron=False)
    return xml if isinstance(xml, bytes) else xml.encode("utf-8")


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def facturx_pdf(xml: bytes | None = None) -> bytes:
    """A Factur-X PDF built by factur-x from a blank page and a CII XML."""
    return facturx.generate_from_binary(blank_pdf(), xml or cii_bytes(), check_xsd=False)


def pdf_with_attachment(name: str, content: bytes) -> bytes:
    """A PDF carrying an arbitrary attachment (for hostile or wrong content)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment(name, content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
