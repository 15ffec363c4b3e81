"""Works markets (marchés de travaux) and their billing files (dossiers de facturation).

A market names its actors once: the MOA (maître d'ouvrage) and MOE (maître d'œuvre), each a
public structure with its service, the payer (the public structure and service whose
"Factures reçues" gets the validated pieces), the titulaire, its co-contractors (one of
whom, or the titulaire, is the mandataire) and its first-rank subcontractors paid directly.
The routing columns live on `market`; `market_actor` repeats every actor, one row per
(market, structure, role), so that "which markets may this structure see" is one indexed
lookup. Both are written in one transaction by backend/works/markets.py only.

Pieces are invoices (backend/invoices Invoice rows) that carry `market` and `dossier`
(nullable columns added to `invoice` by the works migration works_invoice_links).
"""

from piccolo.columns import Boolean, Date, ForeignKey, Numeric, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.directory.tables import Service, Structure

# Market.status: declared by the MOA's gestionnaire, a market is active at once; declared by
# the titulaire, it waits for the MOA's confirmation.
ACTIVE = "active"
PENDING = "pending"

# MarketActor.role
MOA, MOE, PAYER, TITULAIRE, COTRAITANT, SOUS_TRAITANT = "moa", "moe", "payer", "titulaire", "cotraitant", "sous_traitant"


class Market(Table):
    number = Varchar(length=50)  # the MOA's market number: unique per MOA (index in works_indexes)
    title = Varchar(length=255)
    moa = ForeignKey(references=Structure)
    moa_service = ForeignKey(references=Service, null=True)
    moe = ForeignKey(references=Structure)
    moe_service = ForeignKey(references=Service, null=True)
    payer = ForeignKey(references=Structure)
    payer_service = ForeignKey(references=Service, null=True)
    engagement = Varchar(length=50, default="")  # EJ, carried by every piece of the market (BT-13)
    titulaire = ForeignKey(references=Structure)
    mandataire = ForeignKey(references=Structure, null=True)  # the titulaire or a co-contractor; None alone
    start_date = Date(null=True, default=None)
    amount_excl_vat = Numeric(digits=(18, 2), null=True, default=None)
    status = Varchar(length=16)
    declared_by = ForeignKey(references=User, null=True)
    declared_by_structure = ForeignKey(references=Structure)
    confirmed_by = ForeignKey(references=User, null=True)
    confirmed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class MarketActor(Table):
    market = ForeignKey(references=Market)
    structure = ForeignKey(references=Structure)
    role = Varchar(length=16)
    service = ForeignKey(references=Service, null=True)
    direct_payment = Boolean(default=False)  # a first-rank subcontractor paid directly by the payer


class BillingFile(Table):
    """Dossier de facturation: the pieces of one payment request (one month's statement, its
    état d'acompte, the MOA's validation, the payment). Its status is read from its pieces
    (backend/works/dossiers.py), never stored twice."""

    market = ForeignKey(references=Market)
    number = Varchar(length=50)  # unique per market (works_indexes)
    period_start = Date()
    period_end = Date()
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
