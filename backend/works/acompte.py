"""État d'acompte mensuel of a works market, from the cumulative monthly statements (pure, Decimal).

Source: CCAG Travaux 2021 (arrêté du 30 mars 2021), article 12 « Modalités de règlement des
comptes » — 12.1: before the end of each month the titulaire sends the MOE a projet de
décompte mensuel, cumulative since the notification of the market, at the initial prices,
without price revision and excluding VAT, in four parts: (1) travaux et autres prestations,
(2) approvisionnements, (3) primes, (4) remboursement des débours advanced for the MOA
(art. 26.4); 12.2: the MOE accepts or corrects it (it becomes the décompte mensuel) and
draws from it the état d'acompte, the amount to pay this month: the difference between this
cumulative statement and the previous one, with the effects of price revision (actualisation
or révision), penalties, the advance (avance, R.2191-3 ff. CCP) granted and repaid, the
retenue de garantie (R.2191-32 ff. CCP: 5 % at most, none when a caution or guarantee replaces
it), and VAT. Read through code-commande-publique.com/ccag-travaux-2021-article-12 and the FFB
note "CCAG-Travaux : le paiement des situations mensuelles" (2023).

The lines, with the letters of the issue's sketch (total = a + b + d + e − c − f − g), made
explicit where the sketch is silent:

    a  travaux et approvisionnements du mois   (works + supplies) cumul − cumul précédent
    b  révision des prix du mois               revision cumul − cumul précédent
    c  pénalités du mois                       penalties cumul − cumul précédent (deducted)
    d  primes du mois                          bonuses cumul − cumul précédent
       montant HT de l'acompte                 a + b + d − c
       TVA                                     montant HT × taux
    e  débours du mois                         expenses cumul − cumul précédent (outside VAT)
       avance accordée                         the advance paid with this acompte (added)
    f  remboursement de l'avance du mois       repaid cumul − cumul précédent (deducted)
    g  retenue de garantie du mois             (montant HT + TVA) × taux retenue (deducted)
       total à payer                           HT + TVA + e + avance − f − g

Rounding: every input is in euros with at most 2 decimals (refused otherwise), so differences
are exact; VAT and the retenue are computed at full precision and rounded to the cent, half
up (ROUND_HALF_UP, as an accountant does by hand); the total is the sum of the rounded lines,
so the lines shown add up exactly to the total shown.

A month whose works amount goes down (a correction of the previous statement) is accepted and
flagged; a month whose total to pay is negative is refused: a payment request is never
negative (the sum is recovered on a later acompte or by a reversal order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_RETENUE_RATE = Decimal("0.05")  # R.2191-33 CCP: 5 % of the market's amount at most
MAX_VAT_RATE = Decimal("0.20")


class AcompteError(ValueError):
    """Input the état d'acompte cannot be computed from: a stable code and a French message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Statement:
    """A décompte mensuel: amounts cumulated since the start of the market, HT, in euros."""

    works: Decimal = ZERO  # travaux et autres prestations
    supplies: Decimal = ZERO  # approvisionnements
    price_revision: Decimal = ZERO  # effects of actualisation / révision des prix
    bonuses: Decimal = ZERO  # primes
    expenses: Decimal = ZERO  # débours advanced for the MOA (art. 26.4), outside VAT
    penalties: Decimal = ZERO
    advance_repaid: Decimal = ZERO  # remboursement de l'avance, cumulated


@dataclass(frozen=True)
class Terms:
    vat_rate: Decimal = Decimal("0.20")  # 0.20, 0.10, 0.055, or 0 (autoliquidation: a subcontractor)
    retenue_rate: Decimal = MAX_RETENUE_RATE  # 0 when a caution (garantie à première demande) replaces it
    caution: bool = False
    advance_total: Decimal = ZERO  # the advance granted so far, this acompte's included
    advance_granted_now: Decimal = ZERO  # the part of it paid with this acompte


@dataclass(frozen=True)
class Line:
    code: str
    letter: str  # the letter, "" for computed subtotals
    label: str  # French, as the page shows it
    amount: Decimal
    sign: int  # +1 added, -1 deducted, 0 a subtotal


@dataclass(frozen=True)
class EtatAcompte:
    lines: list[Line]
    total: Decimal
    warnings: list[str] = field(default_factory=list)

    def line(self, code: str) -> Line:
        return next(line for line in self.lines if line.code == code)


def _euros(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise AcompteError("amount_invalid", f"{what} : « {value} » n'est pas un montant.") from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise AcompteError("amount_invalid", f"{what} : un montant en euros a deux décimales au plus.")
    return amount.quantize(CENT)


STATEMENT_LABELS = {
    "works": "Travaux", "supplies": "Approvisionnements", "price_revision": "Révision des prix", "bonuses": "Primes",
    "expenses": "Débours", "penalties": "Pénalités", "advance_repaid": "Remboursement de l'avance",
}


def _checked(statement: Statement, which: str) -> dict[str, Decimal]:
    amounts = {name: _euros(getattr(statement, name), f"{STATEMENT_LABELS[name]} ({which})") for name in STATEMENT_LABELS}
    for name, amount in amounts.items():
        if amount < 0 and name != "price_revision":  # a revision index may fall: the only cumul that may be negative
            raise AcompteError("amount_negative", f"{STATEMENT_LABELS[name]} ({which}) : un cumul ne peut pas être négatif.")
    return amounts


def _check_terms(terms: Terms) -> None:
    if not ZERO <= terms.vat_rate <= MAX_VAT_RATE:
        raise AcompteError("vat_rate_invalid", "Le taux de TVA doit être compris entre 0 et 20 %.")
    if not ZERO <= terms.retenue_rate <= MAX_RETENUE_RATE:
        raise AcompteError("retenue_rate_invalid", "La retenue de garantie est de 5 % au plus (article R.2191-33 du code de la commande publique).")
    if terms.caution and terms.retenue_rate:
        raise AcompteError("retenue_with_caution", "Une caution remplace la retenue de garantie : pas de retenue quand la caution est fournie.")
    if _euros(terms.advance_granted_now, "Avance accordée") < 0 or _euros(terms.advance_total, "Avance totale") < terms.advance_granted_now:
        raise AcompteError("advance_invalid", "L'avance accordée avec cet acompte ne peut dépasser l'avance totale, ni être négative.")


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def compute(current: Statement, previous: Statement | None, terms: Terms) -> EtatAcompte:
    """The état d'acompte of `current` after `previous` (None for the first month)."""
    _check_terms(terms)
    now = _checked(current, "ce mois")
    before = _checked(previous or Statement(), "mois précédent")
    if now["advance_repaid"] > _euros(terms.advance_total, "Avance totale"):
        raise AcompteError("advance_over_repaid", "Le remboursement cumulé de l'avance dépasse l'avance accordée.")
    delta = {name: now[name] - before[name] for name in now}
    works = delta["works"] + delta["supplies"]
    excl_vat = works + delta["price_revision"] + delta["bonuses"] - delta["penalties"]
    vat = _round(excl_vat * terms.vat_rate)
    retenue = _round((excl_vat + vat) * terms.retenue_rate) if excl_vat > 0 else ZERO
    lines = [
        Line("works", "a", "Travaux et approvisionnements du mois (cumul − cumul précédent)", works, 1),
        Line("price_revision", "b", "Révision des prix du mois", delta["price_revision"], 1),
        Line("penalties", "c", "Pénalités du mois", delta["penalties"], -1),
        Line("bonuses", "d", "Primes du mois", delta["bonuses"], 1),
        Line("excl_vat", "", "Montant de l'acompte hors TVA", excl_vat, 0),
        Line("vat", "", f"TVA à {_percent(terms.vat_rate)}", vat, 1),
        Line("expenses", "e", "Débours du mois (hors champ de la TVA)", delta["expenses"], 1),
        Line("advance_granted", "", "Avance accordée avec cet acompte", _euros(terms.advance_granted_now, "Avance accordée"), 1),
        Line("advance_repaid", "f", "Remboursement de l'avance", delta["advance_repaid"], -1),
        Line("retenue", "g", f"Retenue de garantie ({_percent(terms.retenue_rate)})" if not terms.caution
             else "Retenue de garantie (remplacée par une caution)", retenue, -1),
    ]
    total = excl_vat + vat + delta["expenses"] + lines[7].amount - delta["advance_repaid"] - retenue
    if total < 0:
        raise AcompteError("negative_total", f"L'acompte de ce mois serait négatif ({_french(total)} €) : une demande de paiement "
                           "ne peut pas être négative ; la différence se reprend sur un acompte suivant.")
    warnings = [] if works >= 0 else [f"Les travaux cumulés baissent de {_french(-works)} € par rapport au mois précédent : "
                                      "correction d'un décompte antérieur, à vérifier."]
    return EtatAcompte(lines + [Line("total", "", "Total à payer", total, 0)], total, warnings)


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}".replace(".", ",") + " %"


def _french(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",")
