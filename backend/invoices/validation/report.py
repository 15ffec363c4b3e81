"""Rendering a ValidationResult: the JSON shape shared by the CLI and the API, and a
French text report for people."""

from __future__ import annotations

from backend.lib.formats import plural

from .model import Amount, Finding, NormalizedInvoice, Party, ValidationResult

FORMAT_LABELS = {
    "facturx-pdf": "Factur-X (PDF)",
    "cii-xml": "CII D16B (XML)",
    "ubl-xml": "UBL 2.1 (XML)",
    "unsupported": "format non accepté",
}
PROFILE_LABELS = {
    "minimum": "MINIMUM",
    "basicwl": "BASIC WL",
    "basic": "BASIC",
    "en16931": "EN 16931",
    "extended": "EXTENDED",
}
STAGE_LABELS = {
    "detect": "format",
    "xsd": "structure XML",
    "en16931": "règles EN 16931",
    "profile": "règles du profil",
    "portal": "règles du portail",
}


def _text(amount: Amount | None) -> str | None:
    return amount.text if amount is not None else None


def finding_to_dict(item: Finding) -> dict:
    return {
        "rule": item.rule,
        "severity": item.severity,
        "stage": item.stage,
        "message": item.message,
        "location": item.location,
        # Added keys (the five above keep their names and meaning).
        "field": item.field,
        "term": item.term,
        "official": item.official,
    }


def _party(party: Party) -> dict:
    return {"name": party.name, "siret": party.siret, "siren": party.siren, "vat_id": party.vat_id}


def invoice_to_dict(invoice: NormalizedInvoice) -> dict:
    totals = invoice.totals
    return {
        "number": invoice.number,
        "issue_date": invoice.issue_date,
        "type_code": invoice.type_code,
        "currency": invoice.currency,
        "buyer_reference": invoice.buyer_reference,
        "purchase_order": invoice.purchase_order,
        "seller": _party(invoice.seller),
        "buyer": _party(invoice.buyer),
        "totals": {
            "line_net": _text(totals.line_net),
            "tax_exclusive": _text(totals.tax_exclusive),
            "tax": _text(totals.tax),
            "tax_inclusive": _text(totals.tax_inclusive),
            "prepaid": _text(totals.prepaid),
            "payable": _text(totals.payable),
        },
        "vat_breakdown": [
            {"category": v.category, "rate": _text(v.rate), "basis": _text(v.basis), "tax": _text(v.tax)}
            for v in invoice.vat_breakdown
        ],
        "line_count": invoice.line_count,
    }


def result_to_json_dict(result: ValidationResult) -> dict:
    """The documented JSON shape (one object per file)."""
    return {
        "file": result.file,
        "format": result.format,
        "profile": result.profile,
        "valid": result.valid,
        "findings": [finding_to_dict(f) for f in result.findings],
        "invoice": invoice_to_dict(result.invoice) if result.invoice is not None else None,
    }


def text_report(result: ValidationResult) -> str:
    """A readable French report for one file."""
    lines = [f"Fichier : {result.file or '(sans nom)'}"]
    fmt = FORMAT_LABELS.get(result.format, result.format)
    if result.profile:
        fmt += f", profil {PROFILE_LABELS[result.profile]}"
    lines.append(f"Format : {fmt}")
    if result.invoice is not None:
        lines.extend(_invoice_lines(result.invoice))
    fatal = [f for f in result.findings if f.severity == "fatal"]
    warnings = [f for f in result.findings if f.severity == "warning"]
    verdict = "VALIDE" if result.valid else "REFUSÉE"
    lines.append(f"Résultat : {verdict} — {plural(len(fatal), 'erreur')}, {plural(len(warnings), 'avertissement')}")
    for item in fatal + warnings:
        lines.append(_finding_line(item))
    return "\n".join(lines)


def _invoice_lines(invoice: NormalizedInvoice) -> list[str]:
    kind = {"380": "Facture", "381": "Avoir"}.get(
        invoice.type_code or "", f"Document type {invoice.type_code}"
    )
    out = [f"{kind} n° {invoice.number or '?'} du {_french_date(invoice.issue_date)}"]
    out.append(f"Vendeur : {_party_label(invoice.seller)}")
    out.append(f"Acheteur : {_party_label(invoice.buyer)}")
    if invoice.buyer_reference:
        out.append(f"Code service (BT-10) : {invoice.buyer_reference}")
    if invoice.purchase_order:
        out.append(f"Engagement (BT-13) : {invoice.purchase_order}")
    payable = _text(invoice.totals.payable)
    if payable is not None:
        out.append(f"Net à payer : {payable} {invoice.currency or ''}".rstrip())
    return out


def _party_label(party: Party) -> str:
    label = party.name or "?"
    if party.siret:
        label += f" (SIRET {party.siret})"
    elif party.siren:
        label += f" (SIREN {party.siren})"
    return label


def _french_date(iso: str | None) -> str:
    if not iso or len(iso) != 10:
        return "?"
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


def _finding_line(item: Finding) -> str:
    mark = "ERREUR" if item.severity == "fatal" else "Avertissement"
    field = f"\n      Champ : {item.field} ({item.term})" if item.field and item.term else ""
    official = f"\n      Détail (règle officielle) : {item.official}" if item.official else ""
    where = f"\n      Emplacement : {item.location}" if item.location else ""
    return f"  - [{mark}] {item.rule} ({STAGE_LABELS.get(item.stage, item.stage)}) : {item.message}{field}{official}{where}"
