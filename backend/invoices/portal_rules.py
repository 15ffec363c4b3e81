"""The portal's own rules (stage "portal"): routing to a public structure and deposit hygiene.

They run after the official rules, on the normalized invoice, against the directory and
the invoices already deposited. Rule IDs carry the FCT-PORTAL prefix; messages are French
and say what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from backend.directory.tables import Juridiction, Service, Structure
from backend.invoices.tables import Invoice
from backend.invoices.validation import Finding, NormalizedInvoice
from backend.invoices.validation.messages_fr import FIELD_LABELS
from backend.invoices.validation.model import Party
from backend.lib.db import get_object
from backend.lib.formats import money
from backend.processing import frameworks

# Where Chorus Pro, the portal modelled here, is stricter than EN 16931. Each limit's
# source is in backend/invoices/validation/POLICY.md, section 9.
# Invoice number: 20 characters at most (Chorus Pro external specifications)...
MAX_NUMBER = 20
# ...made of letters, digits and + - _ / (the reform's BR-FR-02, in force for public
# buyers since 1 September 2026; the entry forms and the API already ask for it).
NUMBER_CHARACTERS = re.compile(r"[A-Za-z0-9+\-_/]+")
# Legal commitment (engagement juridique, BT-13): 50 characters at most.
MAX_ENGAGEMENT = 50
# Attachment names: 50 characters at most, extension included ("Pièces jointes dans
# Chorus Pro : quelques règles à respecter", Chorus Pro community).
MAX_ATTACHMENT_NAME = 50
SIRET = re.compile(r"\d{14}")
MAX_AMOUNT = Decimal(10) ** 13  # numeric(18, 2) holds 16 integer digits; keep a wide margin
INCOMPLETE_PROFILES = {"minimum", "basicwl"}

MESSAGES = {
    "FCT-PORTAL-01": "La facture n'indique pas le SIRET du destinataire ({found}) : le portail attend le SIRET de l'entité publique (14 chiffres, schéma 0009). Sans lui, elle ne peut pas lui être acheminée.",
    "FCT-PORTAL-02": "Le destinataire (SIRET {siret}) n'est pas une entité publique de l'annuaire. Vérifiez le SIRET de l'acheteur.",
    "FCT-PORTAL-03": "Le destinataire {name} (SIRET {siret}) n'est plus actif dans l'annuaire : il ne peut pas recevoir de factures.",
    "FCT-PORTAL-04": "{name} exige un code service (BT-10, référence acheteur). Indiquez l'un de ses services actifs.",
    "FCT-PORTAL-05": "Le code service « {code} » n'existe pas ou n'est plus actif chez {name}. Services actifs : {services}.",
    "FCT-PORTAL-06": "{name} exige un numéro d'engagement juridique (bon de commande, BT-13).",
    "FCT-PORTAL-07": "Le numéro d'engagement dépasse {max} caractères ({length}).",
    "FCT-PORTAL-08": "{name} exige au moins un code service (BT-10) ou un numéro d'engagement (BT-13).",
    "FCT-PORTAL-09": "Le vendeur de la facture est identifié par {found}, mais le portail attend le SIRET de la structure qui dépose, {depositor} (schéma 0009). {advice}",
    "FCT-PORTAL-10": "Une facture n° {number} a déjà été déposée par votre structure pour l'année {year}. Chaque facture doit avoir un numéro unique.",
    "FCT-PORTAL-11": "Les montants sont incohérents : le net à payer est {payable} mais le total TTC ({incl}) moins les acomptes ({prepaid}) donne {expected}.",
    "FCT-PORTAL-12": "La facture ne contient pas les données nécessaires à son dépôt ({missing}).",
    "FCT-PORTAL-13": "La facture n'est pas en euros ({currency}) : les entités publiques françaises sont facturées en EUR.",
    "FCT-PORTAL-15": "Le montant {label} ({value}) dépasse ce que le portail peut enregistrer (moins de 10 000 milliards d'euros).",
    "FCT-PORTAL-17": "{reason}",
    "FCT-PORTAL-18": "Le numéro de facture « {number} » contient {bad} : le portail n'accepte que des lettres sans accent, des chiffres et les signes + - _ /, sans espace. Corrigez-le dans votre logiciel, puis déposez de nouveau la facture.",
    "FCT-PORTAL-19": "Le SIRET de l'acheteur « {siret} » est mal formé : un SIRET compte exactement 14 chiffres, sans espace ni lettre (SIREN de 9 chiffres suivi de 5 chiffres).",
    "FCT-PORTAL-20": "Le nom de la pièce jointe « {name} » a {length} caractères : le portail en accepte {max} au plus, extension comprise. Renommez le fichier.",
    "FCT-PORTAL-21": "Une facture de sous-traitant ou de cotraitant ({framework}) est d'abord validée par le titulaire ou le mandataire du marché : indiquez son SIRET (champ « SIRET du valideur » du dépôt, de la saisie ou de l'API).",
    "FCT-PORTAL-22": "Le valideur (SIRET {siret}) n'est pas une entreprise inscrite sur Facteur : le titulaire ou le mandataire doit avoir un compte pour valider la facture.",
    "FCT-PORTAL-23": "Le valideur (SIRET {siret}) ne peut pas être {who}.",
    "FCT-PORTAL-24": "Un valideur n'est demandé que pour une facture de sous-traitant (A9) ou de cotraitant (A12) ; ce fichier porte le cadre {framework}.",
    "FCT-PORTAL-JUS-01": "Un mémoire de frais de justice (cadre A3) ne se dépose pas comme un fichier : saisissez-le dans Facteur (« Mémoires de justice ») ou envoyez-le par l'API /api/v1/justice/memoires, qui portent la décision, la mission et le délai d'un an.",
    "FCT-PORTAL-JUS-02": "Le destinataire « {name} » (SIRET {siret}) n'est pas une juridiction de l'annuaire : un mémoire de frais de justice s'adresse à la juridiction nommée sur la décision.",
    "FCT-PORTAL-JUS-03": "Seul un mémoire de frais de justice (cadre A3) se saisit comme mémoire ; ce fichier porte le cadre {framework}.",
    "FCT-PORTAL-16": "Le numéro de facture « {number} » a {length} caractères : le portail en accepte {max} au plus. Raccourcissez-le dans votre logiciel, puis déposez de nouveau la facture.",
}


def finding(rule: str, location: str | None = None, **values: object) -> Finding:
    term = location if location in FIELD_LABELS else None  # the portal rules locate a finding by its term
    return Finding(rule=rule, severity="fatal", stage="portal", message=MESSAGES[rule].format(**values), location=location,
                   field=FIELD_LABELS.get(term) if term else None, term=term)


def identified_by(party: Party) -> str | None:
    """What identifies a party in the file when it has no SIRET, said in French ("son SIREN 732829320")."""
    siren = next((i.id for pool in (party.identifiers, party.legal_ids, party.endpoints) for i in pool
                  if i.scheme == "0002" and i.id), None)
    if siren:
        return f"son SIREN {siren} (schéma 0002)"
    if party.vat_id:
        return f"son numéro de TVA {party.vat_id}"
    unnamed = next((i.id for pool in (party.identifiers, party.legal_ids) for i in pool if i.id and not i.scheme), None)
    if unnamed:
        return f"l'identifiant « {unnamed} », sans schéma"
    other = next((i for pool in (party.identifiers, party.legal_ids, party.endpoints) for i in pool if i.id), None)
    if other:
        return f"l'identifiant {other.id} (schéma {other.scheme})"
    return None


def _seller_finding(invoice: NormalizedInvoice, depositor: Structure) -> Finding:
    seller = invoice.seller
    if seller.siret:
        found, advice = f"le SIRET {seller.siret}", "Déposez depuis la structure émettrice de la facture."
    else:
        found = identified_by(seller) or "aucun identifiant"
        advice = "Ajoutez le SIRET de votre établissement aux identifiants du vendeur dans la facture (schéma 0009)."
        if seller.siren and depositor.siret.startswith(seller.siren):
            advice = f"Le SIREN {seller.siren} est bien celui de votre entreprise : " + advice[0].lower() + advice[1:]
    return finding("FCT-PORTAL-09", "BT-30", found=found, depositor=depositor.siret, advice=advice)


def _bad_number_characters(number: str) -> str | None:
    """What Chorus Pro refuses in an invoice number, said in French ("des espaces et le
    caractère « . »"), or None when the number is acceptable."""
    if NUMBER_CHARACTERS.fullmatch(number):
        return None
    others = sorted({c for c in number if not c.isspace() and not NUMBER_CHARACTERS.fullmatch(c)})
    parts = ["des espaces"] if any(c.isspace() for c in number) else []
    if others:
        label = "le caractère" if len(others) == 1 else "les caractères"
        parts.append(f"{label} " + ", ".join(f"« {c} »" for c in others))
    return " et ".join(parts)


def attachment_name_findings(names: list[str], location: str | None = None) -> list[Finding]:
    """FCT-PORTAL-20 for each attachment name longer than Chorus Pro accepts."""
    return [finding("FCT-PORTAL-20", location or name, name=_shown_number(name), length=len(name), max=MAX_ATTACHMENT_NAME)
            for name in names if len(name) > MAX_ATTACHMENT_NAME]


def _shown_number(number: str) -> str:
    return number if len(number) <= 40 else number[:40] + "…"


@dataclass
class Routing:
    """What the portal rules found out, used to create the invoice when they all pass."""

    recipient: Structure | None = None
    year: int | None = None
    validators: tuple[int | None, int | None] = (None, None)  # validation circuit: levels 1 and 2


@dataclass(frozen=True)
class Validators:
    """Who validates a subcontractor's or co-contractor's invoice, given with the deposit (capture
    form, deposit form, API): CII and UBL have no standard slot for it. `first` is the titulaire or
    mandataire (or, for a co-contractor's subcontractor, the co-contractor); `second` the mandataire
    who validates after that co-contractor."""

    first: str = ""
    second: str = ""

    def given(self) -> bool:
        return bool(self.first.strip() or self.second.strip())


def _amount(value) -> Decimal | None:
    return value.value if value is not None else None


async def check(invoice: NormalizedInvoice, depositor: Structure | None,
                validators: Validators | None = None, *, memoire: bool = False) -> tuple[list[Finding], Routing]:
    """All portal findings; without a depositor (command line), the seller's own structure stands in."""
    findings: list[Finding] = []
    routing = Routing()
    missing = [label for label, value in (("numéro de facture", invoice.number), ("date de facture", invoice.issue_date)) if not value]
    if missing:
        return [finding("FCT-PORTAL-12", "BT-1" if not invoice.number else "BT-2", missing=", ".join(missing))], routing
    routing.year = int(invoice.issue_date[:4])
    too_long = len(invoice.number) > MAX_NUMBER
    if too_long:  # refused as written: never cut to fit
        findings.append(finding("FCT-PORTAL-16", "BT-1", number=_shown_number(invoice.number), length=len(invoice.number), max=MAX_NUMBER))
    if not too_long and (bad := _bad_number_characters(invoice.number)):
        findings.append(finding("FCT-PORTAL-18", "BT-1", number=_shown_number(invoice.number), bad=bad))
    findings += attachment_name_findings([d.filename for d in invoice.documents if d.filename], "BT-125")
    if invoice.currency and invoice.currency != "EUR":
        findings.append(finding("FCT-PORTAL-13", "BT-5", currency=invoice.currency))
    if reason := frameworks.refusal(invoice.business_process):
        findings.append(finding("FCT-PORTAL-17", "BT-23", reason=reason))
    if depositor is not None and invoice.seller.siret != depositor.siret:
        findings.append(_seller_finding(invoice, depositor))
    if not any(f.rule == "FCT-PORTAL-17" for f in findings):
        validator_findings, routing.validators = await _validator_findings(invoice, validators or Validators(), depositor)
        findings += validator_findings
    supplier = depositor or await Structure.objects().get(Structure.siret == (invoice.seller.siret or ""))
    findings += _amount_findings(invoice)
    recipient_findings, routing.recipient = await _recipient_findings(invoice)
    findings += recipient_findings
    findings += await _memoire_findings(invoice, routing.recipient, memoire)
    if not too_long and supplier is not None and await _is_duplicate(supplier.id, invoice.number, routing.year):
        findings.append(finding("FCT-PORTAL-10", "BT-1", number=invoice.number, year=routing.year))
    return findings, routing


async def _memoire_findings(invoice: NormalizedInvoice, recipient: Structure | None, memoire: bool) -> list[Finding]:
    """A3 only as a mémoire captured by backend/justice (JUS-01), and a mémoire only A3 (JUS-03),
    to a juridiction of the directory (JUS-02)."""
    code = frameworks.code_of(invoice.business_process)
    if not memoire:
        return [finding("FCT-PORTAL-JUS-01", "BT-23")] if frameworks.is_memoire(code) else []
    if not frameworks.is_memoire(code):
        return [finding("FCT-PORTAL-JUS-03", "BT-23", framework=code or invoice.business_process or "absent")]
    if recipient is not None and not await Juridiction.exists().where(Juridiction.structure == recipient.id):
        return [finding("FCT-PORTAL-JUS-02", "BT-46", name=recipient.name, siret=recipient.siret)]
    return []


async def _validator_findings(invoice: NormalizedInvoice, validators: Validators,
                              depositor: Structure | None) -> tuple[list[Finding], tuple[int | None, int | None]]:
    """A9/A12 name their validator, a registered company other than the depositor and the buyer."""
    code = frameworks.code_of(invoice.business_process) or frameworks.DEFAULT
    if not frameworks.needs_validator(code):
        return ([finding("FCT-PORTAL-24", "BT-23", framework=code)] if validators.given() else []), (None, None)
    first, second = validators.first.strip(), validators.second.strip()
    if not first:
        return [finding("FCT-PORTAL-21", "BT-23", framework=frameworks.label(code))], (None, None)
    ids: list[int | None] = []
    for siret in (first, second):
        if not siret:
            ids.append(None)
            continue
        structure = await Structure.objects().get((Structure.siret == siret) & (Structure.is_public == False))  # noqa: E712
        if structure is None:
            return [finding("FCT-PORTAL-22", siret=siret[:20])], (None, None)
        if depositor is not None and structure.id == depositor.id:
            return [finding("FCT-PORTAL-23", siret=siret, who="votre propre structure")], (None, None)
        if structure.id in ids:
            return [finding("FCT-PORTAL-23", siret=siret, who="à la fois le premier et le second valideur")], (None, None)
        ids.append(structure.id)
    return [], (ids[0], ids[1])


def _amount_findings(invoice: NormalizedInvoice) -> list[Finding]:
    totals = invoice.totals
    incl, payable = _amount(totals.tax_inclusive), _amount(totals.payable)
    if incl is None or payable is None:
        return [finding("FCT-PORTAL-12", "BT-115", missing="total TTC et net à payer lisibles")]
    stored = {"HT (BT-109)": totals.tax_exclusive, "de TVA (BT-110)": totals.tax, "TTC (BT-112)": totals.tax_inclusive, "à payer (BT-115)": totals.payable}
    for label, amount in stored.items():
        value = _amount(amount)
        if value is not None and abs(value) >= MAX_AMOUNT:
            return [finding("FCT-PORTAL-15", label=label, value=amount.text)]
    prepaid = _amount(totals.prepaid) or Decimal(0)
    rounding = _amount(totals.rounding) or Decimal(0)
    if abs(incl - prepaid + rounding - payable) > Decimal("0.01"):
        currency = invoice.currency if re.fullmatch(r"[A-Z]{3}", invoice.currency or "") else "EUR"
        return [finding("FCT-PORTAL-11", "BT-115", payable=money(payable, currency), incl=money(incl, currency),
                        prepaid=money(prepaid, currency), expected=money(incl - prepaid + rounding, currency))]
    return []


async def _recipient_findings(invoice: NormalizedInvoice) -> tuple[list[Finding], Structure | None]:
    siret = invoice.buyer.siret
    if not siret:
        found = identified_by(invoice.buyer)
        return [finding("FCT-PORTAL-01", "BT-47", found=f"l'acheteur y est identifié par {found}" if found else "aucun identifiant de l'acheteur")], None
    if not SIRET.fullmatch(siret):
        return [finding("FCT-PORTAL-19", "BT-47", siret=siret)], None
    recipient = await get_object(Structure, "siret = {} AND is_public = {}", siret, True)  # asked for every invoice
    if recipient is None:
        return [finding("FCT-PORTAL-02", "BT-47", siret=siret)], None
    if not recipient.active:
        return [finding("FCT-PORTAL-03", "BT-47", name=recipient.name, siret=siret)], recipient
    return await routing_findings(invoice, recipient), recipient


async def routing_findings(invoice: NormalizedInvoice, recipient: Structure) -> list[Finding]:
    code = (invoice.buyer_reference or "").strip()
    engagement = (invoice.purchase_order or "").strip()
    findings: list[Finding] = []
    service = None
    if code:
        service = await get_object(Service, "structure = {} AND code = {} AND active = {}", recipient.id, code, True)
        if service is None:
            findings.append(finding("FCT-PORTAL-05", "BT-10", code=code, name=recipient.name, services=await _service_list(recipient.id)))
    elif recipient.requires_service:
        findings.append(finding("FCT-PORTAL-04", "BT-10", name=recipient.name))
    if len(engagement) > MAX_ENGAGEMENT:
        findings.append(finding("FCT-PORTAL-07", "BT-13", max=MAX_ENGAGEMENT, length=len(engagement)))
    needs_engagement = recipient.requires_engagement or (service is not None and service.requires_engagement)
    if needs_engagement and not engagement:
        findings.append(finding("FCT-PORTAL-06", "BT-13", name=recipient.name))
    if recipient.requires_service_or_engagement and not code and not engagement:
        findings.append(finding("FCT-PORTAL-08", "BT-10", name=recipient.name))
    return findings


async def _service_list(structure_id: int) -> str:
    rows = await Service.select(Service.code).where(
        (Service.structure == structure_id) & (Service.active == True)  # noqa: E712
    ).order_by(Service.code).limit(10)
    return ", ".join(r["code"] for r in rows) or "aucun"


# Asked for every deposited invoice. Piccolo's exists() built a sub-select of every invoice
# column (about 1 ms of CPU to build, each time); this asks for what is needed, once written.
_DUPLICATE_SQL = "SELECT 1 AS found FROM invoice WHERE supplier = {} AND number = {} AND number_year = {} LIMIT 1"


async def _is_duplicate(supplier_id: int, number: str, year: int) -> bool:
    return bool(await Invoice.raw(_DUPLICATE_SQL, supplier_id, number, year))


def command_line_check(result) -> list[Finding]:
    """`facteur validate --portal`: the portal stage against the configured database, for one file."""
    import asyncio

    if result.invoice is None or not result.valid:
        return []
    if result.profile in INCOMPLETE_PROFILES:
        from backend.invoices.validation import incomplete_profile_finding

        return [incomplete_profile_finding(result.profile)]
    return asyncio.run(check(result.invoice, None))[0]
