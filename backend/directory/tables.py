"""Structures (legal entities by SIRET) and the services of public structures.

One table holds every structure: supplier companies that sign up and the public
structures of the directory (annuaire). `is_public` marks the latter; their flags drive
the routing rules of a deposit.
"""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Structure(Table):
    siret = Varchar(length=14, unique=True, index=True)
    siren = Varchar(length=9, index=True)
    name = Varchar(length=255)
    # fold(name + city + postal code): what the autocomplete searches.
    search_key = Text(index=True)
    address_line1 = Varchar(length=255, default="")
    address_line2 = Varchar(length=255, default="")
    address_line3 = Varchar(length=255, default="")
    postal_code = Varchar(length=16, default="")
    city = Varchar(length=128, default="", index=True)
    country = Varchar(length=2, default="FR")
    vat_number = Varchar(length=32, default="")
    iban = Varchar(length=34, default="")
    bic = Varchar(length=11, default="")
    contact_email = Varchar(length=254, default="")
    # A supplier under the VAT franchise (franchise en base, CGI art. 293 B): its new invoices
    # start at 0 % with that exemption reason.
    vat_franchise = Boolean(default=False)
    # Directory (annuaire) data, meaningful when is_public is true.
    is_public = Boolean(default=False, index=True)
    requires_service = Boolean(default=False)
    requires_engagement = Boolean(default=False)
    requires_service_or_engagement = Boolean(default=False)
    reports_payment = Boolean(default=True)
    # Délai global de paiement in days (30 State and local authorities, 50 public health
    # establishments, 60 public companies); empty = 30, the directory not telling the kind.
    payment_delay_days = Integer(null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Service(Table):
    structure = ForeignKey(references=Structure, index=True)
    code = Varchar(length=100)
    name = Varchar(length=255)
    requires_engagement = Boolean(default=False)
    active = Boolean(default=True)
    updated_at = Timestamptz(default=TimestamptzNow())



class Juridiction(Table):
    """A court (juridiction) of the directory: a public structure of this kind, with its code and
    the service centralisateur that receives and checks the mémoires de frais de justice (A3)."""

    structure = ForeignKey(references=Structure, unique=True, index=True)
    kind = Varchar(length=32)  # backend.directory.juridictions.KINDS: tribunal_judiciaire, cour_appel…
    code = Varchar(length=16, unique=True)  # the juridiction's code (e.g. TJ7501)
    central_service = ForeignKey(references=Service, null=True, default=None)
