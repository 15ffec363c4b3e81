"""The values behind a finding: "le total TTC est 500,00 € mais le total HT plus la TVA donne 468,00 €".

The official rules say what must hold (BT-112 = BT-109 + BT-110); a supplier needs what
their file says and what the rule computes from it. The values come from the invoice
already extracted (extract.py) and, for the few figures it does not keep (document
allowances and charges, exemption reasons), from the document itself; the failed
assertion's location says which VAT breakdown, line, allowance or charge is meant.

Covered: the totals (BR-CO-10 to BR-CO-17, BR-CO-25), the mandatory fields (BR-01 to
BR-16) and the VAT categories "taux normal", "taux zéro" and "exonéré" (BR-S-*, BR-Z-*,
BR-E-*). Any other rule keeps the French sentence of messages_fr.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

import msgspec
from babel.numbers import format_currency, format_decimal
from lxml import etree

from backend.lib.formats import plural

from .extract import NS
from .messages_fr import FIELD_LABELS
from .model import Amount, Finding, Line, NormalizedInvoice, VatBreakdown

CENT = Decimal("0.01")
ZERO = Decimal(0)


@dataclass
class Charge:
    """A document-level allowance (BG-20) or charge (BG-21)."""

    is_charge: bool
    amount: Decimal | None
    category: str | None
    rate: Decimal | None


_CII_CHARGES = etree.XPath(
    "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge",
    namespaces=NS,
)
_UBL_CHARGES = etree.XPath("cac:AllowanceCharge", namespaces=NS)
_CII_REASONS = etree.XPath(
    "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    "/*[local-name()='ExemptionReason' or local-name()='ExemptionReasonCode']",
    namespaces=NS,
)
_UBL_REASONS = etree.XPath(
    "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
    "/*[local-name()='TaxExemptionReason' or local-name()='TaxExemptionReasonCode']",
    namespaces=NS,
)


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip())
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def _child_text(node: etree._Element, *names: str) -> str | None:
    """Text of the first descendant along local names (namespace-agnostic, both syntaxes)."""
    current = node
    for name in names:
        current = next((c for c in current if isinstance(c.tag, str) and etree.QName(c).localname == name), None)
        if current is None:
            return None
    return (current.text or "").strip()


class Context:
    """One invoice and what the messages compute from it."""

    def __init__(self, invoice: NormalizedInvoice, root: etree._Element | None) -> None:
        self.invoice, self.root = invoice, root

    @cached_property
    def charges(self) -> list[Charge]:
        if self.root is None:
            return []
        cii = self.invoice.syntax == "CII"
        found = []
        for node in (_CII_CHARGES if cii else _UBL_CHARGES)(self.root):
            indicator = _child_text(node, "ChargeIndicator", "Indicator") if cii else _child_text(node, "ChargeIndicator")
            tax = ("CategoryTradeTax",) if cii else ("TaxCategory",)
            found.append(Charge(
                is_charge=(indicator or "").lower() == "true",
                amount=_decimal(_child_text(node, "ActualAmount" if cii else "Amount")),
                category=_child_text(node, *tax, "CategoryCode" if cii else "ID"),
                rate=_decimal(_child_text(node, *tax, "RateApplicablePercent" if cii else "Percent")),
            ))
        return found

    def exemption_reasons(self) -> list[str]:
        if self.root is None:
            return []
        nodes = (_CII_REASONS if self.invoice.syntax == "CII" else _UBL_REASONS)(self.root)
        return [text for n in nodes if (text := (n.text or "").strip())]

    # --- formatting -------------------------------------------------------------------

    def money(self, value: Decimal | Amount | None) -> str:
        if isinstance(value, Amount):
            if value.value is None:
                return f"« {value.text} »"
            value = value.value
        if value is None:
            return "absent"
        currency = self.invoice.currency if re.fullmatch(r"[A-Z]{3}", self.invoice.currency or "") else "EUR"
        return format_currency(value, currency, locale="fr_FR")


def percent(value: Decimal | Amount | None) -> str:
    if isinstance(value, Amount):
        value = value.value
    return "?" if value is None else f"{format_decimal(value, locale='fr_FR')}\u00a0%"


def _value(amount: Amount | None) -> Decimal | None:
    return amount.value if amount is not None else None


def _sum(values) -> Decimal:
    return sum((v for v in values if v is not None), ZERO)


def _index(location: str | None, element: str) -> int | None:
    """0-based position of `element[n]` in the failed assertion's location."""
    match = re.search(rf"/{element}\[(\d+)\]", location or "")
    return int(match.group(1)) - 1 if match else None


def _breakdown(ctx: Context, location: str | None, category: str | None = None) -> tuple[int, VatBreakdown] | None:
    index = _index(location, "ApplicableTradeTax") if ctx.invoice.syntax == "CII" else _index(location, "TaxSubtotal")
    rows = ctx.invoice.vat_breakdown
    if index is not None and index < len(rows):
        return index, rows[index]
    matching = [(i, v) for i, v in enumerate(rows) if category is None or v.category == category]
    return matching[0] if len(matching) == 1 else None


def _line(ctx: Context, location: str | None) -> Line | None:
    index = _index(location, "IncludedSupplyChainTradeLineItem")
    if index is None:
        index = _index(location, "InvoiceLine")
    if index is None:
        index = _index(location, "CreditNoteLine")
    lines = ctx.invoice.lines
    return lines[index] if index is not None and index < len(lines) else None


def _line_label(line: Line) -> str:
    name = f" « {line.name} »" if line.name else ""
    return f"La ligne {line.id or '?'}{name}"


def _breakdown_label(ctx: Context, number: int, row: VatBreakdown) -> str:
    many = len(ctx.invoice.vat_breakdown) > 1
    where = f"Dans la ventilation de TVA n° {number + 1}" if many else "Dans la ventilation de TVA"
    return f"{where} (catégorie {row.category or '?'}, {percent(row.rate)})"


# --- totals (BR-CO-*) ---------------------------------------------------------------------


def _line_sum(ctx: Context) -> Decimal:
    return _sum(_value(line.net_amount) for line in ctx.invoice.lines)


def _charge_sum(ctx: Context, is_charge: bool) -> Decimal:
    return _sum(c.amount for c in ctx.charges if c.is_charge == is_charge)


def br_co_10(ctx: Context, location: str | None) -> str:
    count = len(ctx.invoice.lines)
    return (f"Le total des lignes HT est {ctx.money(ctx.invoice.totals.line_net)} mais la somme des montants nets "
            f"{'de la ligne' if count == 1 else f'des {count} lignes'} donne {ctx.money(_line_sum(ctx))}.")


def _br_co_charges(is_charge: bool) -> Callable[[Context, str | None], str]:
    def explain(ctx: Context, location: str | None) -> str:
        total = ctx.invoice.totals.charges if is_charge else ctx.invoice.totals.allowances
        count = sum(1 for c in ctx.charges if c.is_charge == is_charge)
        what = "frais" if is_charge else "remises"
        if count == 0:
            return f"Le total des {what} est {ctx.money(total)} mais le document ne contient aucun{'' if is_charge else 'e'} {what[:-1] if not is_charge else what}."
        if count == 1:
            items = "des frais" if is_charge else "de la remise"
        else:
            items = f"des {count} {'frais' if is_charge else 'remises'}"
        return (f"Le total des {what} est {ctx.money(total)} mais la somme {items} du document donne "
                f"{ctx.money(_charge_sum(ctx, is_charge))}.")

    return explain


def _minus_plus(ctx: Context, minus: tuple[str, Amount | None], plus: tuple[str, Amount | None]) -> tuple[str, Decimal]:
    """", moins les acomptes (…), plus l'arrondi (…)" for the terms present, and their effect."""
    text, effect = "", ZERO
    if minus[1] is not None and minus[1].value != ZERO:  # a zero changes nothing: not said
        text += f", moins {minus[0]} ({ctx.money(minus[1])})"
        effect -= minus[1].value or ZERO
    if plus[1] is not None and plus[1].value != ZERO:
        text += f", plus {plus[0]} ({ctx.money(plus[1])})"
        effect += plus[1].value or ZERO
    return text, effect


def br_co_13(ctx: Context, location: str | None) -> str:
    totals = ctx.invoice.totals
    # The official check (CII and UBL alike) starts from the lines' total as written (BT-106).
    lines = totals.line_net if totals.line_net is not None else Amount("", _line_sum(ctx))
    text, effect = _minus_plus(ctx, ("les remises", totals.allowances), ("les frais", totals.charges))
    if not text:
        return (f"Le total HT est {ctx.money(totals.tax_exclusive)} mais le total des lignes HT est de "
                f"{ctx.money(lines)}, sans remise ni frais sur le document : les deux doivent être égaux.")
    return (f"Le total HT est {ctx.money(totals.tax_exclusive)} mais le total des lignes ({ctx.money(lines)})"
            f"{text} donne {ctx.money((lines.value or ZERO) + effect)}.")


def br_co_14(ctx: Context, location: str | None) -> str:
    rows = ctx.invoice.vat_breakdown
    return (f"Le total de la TVA est {ctx.money(ctx.invoice.totals.tax)} mais la somme des montants de TVA "
            f"de la ventilation ({plural(len(rows), 'taux')}) donne {ctx.money(_sum(_value(v.tax) for v in rows))}.")


def br_co_15(ctx: Context, location: str | None) -> str:
    totals = ctx.invoice.totals
    expected = (_value(totals.tax_exclusive) or ZERO) + (_value(totals.tax) or ZERO)
    return (f"Le total TTC est {ctx.money(totals.tax_inclusive)} mais le total HT ({ctx.money(totals.tax_exclusive)}) "
            f"plus la TVA ({ctx.money(totals.tax)}) donne {ctx.money(expected)}.")


def br_co_16(ctx: Context, location: str | None) -> str:
    totals = ctx.invoice.totals
    text, effect = _minus_plus(ctx, ("les acomptes", totals.prepaid), ("l'arrondi", totals.rounding))
    expected = (_value(totals.tax_inclusive) or ZERO) + effect
    if not text:
        return (f"Le net à payer est {ctx.money(totals.payable)} mais le total TTC est de {ctx.money(totals.tax_inclusive)}, "
                "sans acompte ni arrondi : les deux doivent être égaux.")
    return (f"Le net à payer est {ctx.money(totals.payable)} mais le total TTC ({ctx.money(totals.tax_inclusive)})"
            f"{text} donne {ctx.money(expected)}.")


def _vat_of(basis: Decimal | None, rate: Decimal | None) -> Decimal | None:
    if basis is None or rate is None:
        return None
    return (basis * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def br_co_17(ctx: Context, location: str | None) -> str | None:
    found = _breakdown(ctx, location)
    if found is None:
        return None
    number, row = found
    expected = _vat_of(_value(row.basis), _value(row.rate))
    return (f"{_breakdown_label(ctx, number, row)}, le montant de TVA est {ctx.money(row.tax)} mais la base "
            f"({ctx.money(row.basis)}) × {percent(row.rate)} donne {ctx.money(expected)}.")


def br_co_25(ctx: Context, location: str | None) -> str:
    return (f"Le net à payer est de {ctx.money(ctx.invoice.totals.payable)} : indiquez la date d'échéance "
            "ou les conditions de paiement.")


# --- mandatory fields (BR-01 to BR-16) ------------------------------------------------------


def _party_hint(siret: str | None, siren: str | None) -> str:
    if siret:
        return f" (SIRET {siret})"
    return f" (SIREN {siren})" if siren else ""


def _missing(text: str, party: str | None = None) -> Callable[[Context, str | None], str]:
    def explain(ctx: Context, location: str | None) -> str:
        if party is None:
            return text
        who = ctx.invoice.seller if party == "seller" else ctx.invoice.buyer
        name = f" « {who.name} »" if who.name else ""
        return text.format(who=name + _party_hint(who.siret, who.siren))

    return explain


def br_02(ctx: Context, location: str | None) -> str:
    return "Le numéro de facture est absent : chaque facture doit porter son numéro."


def br_16(ctx: Context, location: str | None) -> str:
    return (f"La facture ne contient aucune ligne, alors que son total HT est de "
            f"{ctx.money(ctx.invoice.totals.tax_exclusive)} : ajoutez au moins une ligne.")


# --- VAT categories (BR-S-*, BR-Z-*, BR-E-*) -----------------------------------------------

CATEGORY_LABELS = {"S": "au taux normal", "Z": "au taux zéro", "E": "exonérée de TVA"}


def _category_rules(code: str) -> dict[str, Callable[[Context, str | None], str | None]]:
    label = CATEGORY_LABELS[code]
    standard = code == "S"

    def count(ctx: Context, location: str | None) -> str:  # -01
        lines = sum(1 for line in ctx.invoice.lines if line.vat_category == code)
        charges = sum(1 for c in ctx.charges if c.category == code)
        rows = sum(1 for v in ctx.invoice.vat_breakdown if v.category == code)
        what = plural(lines, "ligne") + (f" et {plural(charges, 'remise ou frais', 'remises ou frais')}" if charges else "")
        if standard or rows == 0:
            found = "n'en contient aucune" if rows == 0 else f"en contient {rows}"
            return (f"La facture a {what} en TVA {label} (catégorie {code}) mais la ventilation de TVA "
                    f"{found} : ajoutez la ventilation de cette catégorie.")
        return (f"La facture a {what} en TVA {label} (catégorie {code}) et la ventilation de TVA contient "
                f"{rows} ventilations {code} : il en faut une seule.")

    def seller_vat(kind: str) -> Callable[[Context, str | None], str]:  # -02 to -04
        def explain(ctx: Context, location: str | None) -> str:
            return (f"{kind} en TVA {label} (catégorie {code}) : le numéro de TVA du vendeur est alors obligatoire, "
                    "or la facture n'en indique aucun (ni celui d'un représentant fiscal).")

        return explain

    def line_rate(ctx: Context, location: str | None) -> str | None:  # -05
        line = _line(ctx, location)
        if line is None:
            return None
        expected = f"doit être supérieur à {percent(ZERO)}" if standard else f"doit être de {percent(ZERO)}"
        return (f"{_line_label(line)} est en TVA {label} (catégorie {code}) avec un taux de "
                f"{percent(line.vat_rate)} : ce taux {expected}.")

    def charge_rate(is_charge: bool) -> Callable[[Context, str | None], str | None]:  # -06, -07
        def explain(ctx: Context, location: str | None) -> str | None:
            index = _index(location, "SpecifiedTradeAllowanceCharge")
            if index is None:
                index = _index(location, "AllowanceCharge")
            if index is None or index >= len(ctx.charges):
                return None
            charge = ctx.charges[index]
            what = "Des frais" if is_charge else "Une remise"
            expected = f"doit être supérieur à {percent(ZERO)}" if standard else f"doit être de {percent(ZERO)}"
            return (f"{what} du document de {ctx.money(charge.amount)} en TVA {label} (catégorie {code}) "
                    f"{'ont' if is_charge else 'a'} un taux de {percent(charge.rate)} : ce taux {expected}.")

        return explain

    def basis(ctx: Context, location: str | None) -> str | None:  # -08
        found = _breakdown(ctx, location, code)
        if found is None:
            return None
        number, row = found
        rate = _value(row.rate)

        def same(category: str | None, item_rate: Decimal | None) -> bool:
            return category == code and (not standard or item_rate == rate)

        lines = _sum(_value(line.net_amount) for line in ctx.invoice.lines if same(line.vat_category, _value(line.vat_rate)))
        allowances = _sum(c.amount for c in ctx.charges if not c.is_charge and same(c.category, c.rate))
        charges = _sum(c.amount for c in ctx.charges if c.is_charge and same(c.category, c.rate))
        detail = f"la somme des lignes {'à ce taux' if standard else 'de cette catégorie'}"
        if allowances or charges:
            detail += f" ({ctx.money(lines)})"
        if allowances:
            detail += f", moins les remises ({ctx.money(allowances)})"
        if charges:
            detail += f", plus les frais ({ctx.money(charges)})"
        return (f"{_breakdown_label(ctx, number, row)}, la base imposable est {ctx.money(row.basis)} mais "
                f"{detail} donne {ctx.money(lines - allowances + charges)}.")

    def tax(ctx: Context, location: str | None) -> str | None:  # -09
        found = _breakdown(ctx, location, code)
        if found is None:
            return None
        number, row = found
        if standard:
            expected = _vat_of(_value(row.basis), _value(row.rate))
            return (f"{_breakdown_label(ctx, number, row)}, le montant de TVA est {ctx.money(row.tax)} mais la base "
                    f"({ctx.money(row.basis)}) × {percent(row.rate)} donne {ctx.money(expected)}.")
        return (f"{_breakdown_label(ctx, number, row)}, le montant de TVA est {ctx.money(row.tax)} : en TVA {label}, "
                f"il doit être de {ctx.money(ZERO)}.")

    def reason(ctx: Context, location: str | None) -> str:  # -10
        if code == "E":
            return ("La ventilation de TVA exonérée (catégorie E) n'indique pas le motif d'exonération : indiquez "
                    "le texte (par exemple « Exonération de TVA, article 261 du CGI ») ou son code.")
        reasons = ", ".join(f"« {r} »" for r in ctx.exemption_reasons()) or "un motif"
        return (f"La ventilation de TVA {label} (catégorie {code}) indique un motif d'exonération ({reasons}) : "
                "une TVA qui n'est pas exonérée n'en a pas ; retirez-le ou changez la catégorie.")

    prefix = f"BR-{code}-"
    return {
        f"{prefix}01": count,
        f"{prefix}02": seller_vat("Des lignes sont"),
        f"{prefix}03": seller_vat("Une remise du document est"),
        f"{prefix}04": seller_vat("Des frais du document sont"),
        f"{prefix}05": line_rate,
        f"{prefix}06": charge_rate(False),
        f"{prefix}07": charge_rate(True),
        f"{prefix}08": basis,
        f"{prefix}09": tax,
        f"{prefix}10": reason,
    }


Explainer = Callable[[Context, str | None], "str | None"]

EXPLAINERS: dict[str, Explainer] = {
    "BR-CO-10": br_co_10,
    "BR-CO-11": _br_co_charges(False),
    "BR-CO-12": _br_co_charges(True),
    "BR-CO-13": br_co_13,
    "BR-CO-14": br_co_14,
    "BR-CO-15": br_co_15,
    "BR-CO-16": br_co_16,
    "BR-CO-17": br_co_17,
    "BR-CO-25": br_co_25,
    "BR-02": br_02,
    "BR-06": _missing("La raison sociale du vendeur{who} est absente.", "seller"),
    "BR-07": _missing("Le nom de l'acheteur{who} est absent.", "buyer"),
    "BR-08": _missing("L'adresse postale du vendeur{who} est absente.", "seller"),
    "BR-09": _missing("Le code pays de l'adresse du vendeur{who} est absent (par exemple FR).", "seller"),
    "BR-10": _missing("L'adresse postale de l'acheteur{who} est absente.", "buyer"),
    "BR-11": _missing("Le code pays de l'adresse de l'acheteur{who} est absent (par exemple FR).", "buyer"),
    "BR-16": br_16,
    **_category_rules("S"),
    **_category_rules("Z"),
    **_category_rules("E"),
}

# The field a rule is about, when it is not the first term its official text names.
MAIN_TERMS: dict[str, str] = {
    "BR-CO-17": "BT-117",
    "BR-CO-25": "BT-9",
    **{f"BR-{c}-{n}": t for c in "SZE" for n, t in (("01", "BG-23"), ("02", "BT-31"), ("03", "BT-31"),
                                                     ("04", "BT-31"), ("05", "BT-152"), ("06", "BT-96"),
                                                     ("07", "BT-103"), ("08", "BT-116"), ("09", "BT-117"),
                                                     ("10", "BT-120"))},
}


_CODE_LIST = re.compile(r"Value of '[^']+' is not allowed")
_STEP = re.compile(r"^(@?)([A-Za-z_][\w.\-]*)((?:\[\d+\])?)$")


def value_at(root: etree._Element, location: str | None) -> str | None:
    """The text (or attribute value) at a failed assertion's location, None when unreadable."""
    path = (location or "").split(" (")[0].strip()
    if not path.startswith("/"):
        return None
    steps = []
    for raw in path.strip("/").split("/"):
        match = _STEP.match(raw)
        if match is None:
            return None
        attribute, name, index = match.groups()
        steps.append(f"@*[local-name()='{name}']" if attribute else f"*[local-name()='{name}']{index}")
    try:
        found = root.getroottree().xpath("/" + "/".join(steps))
    except etree.XPathError:
        return None
    if not found:
        return None
    node = found[0]
    return (node if isinstance(node, str) else node.text or "").strip()


def _needs_values(item: Finding) -> bool:
    return item.rule in EXPLAINERS or item.rule in MAIN_TERMS or bool(_CODE_LIST.search(item.official or ""))


def with_values(findings: list[Finding], invoice: NormalizedInvoice | None, root: etree._Element | None) -> list[Finding]:
    """The findings, those of the covered rules rewritten with the file's values."""
    if invoice is None or not any(_needs_values(f) for f in findings):
        return findings
    ctx = Context(invoice, root)
    return [_explained(f, ctx) for f in findings]


def _explained(item: Finding, ctx: Context) -> Finding:
    changes: dict[str, object] = {}
    term = MAIN_TERMS.get(item.rule)
    if term is not None and term != item.term:
        changes.update(term=term, field=FIELD_LABELS.get(term))
    explain = EXPLAINERS.get(item.rule)
    if explain is not None:
        try:
            message = explain(ctx, item.location)
        except (ArithmeticError, ValueError, TypeError):  # a value too odd to compute on: keep the sentence
            message = None
        if message:
            changes["message"] = message
    elif ctx.root is not None and _CODE_LIST.search(item.official or ""):
        found = value_at(ctx.root, item.location)
        if found is not None:
            changes["message"] = f"{item.message} Valeur trouvée : « {found} »."
    return msgspec.structs.replace(item, **changes) if changes else item
