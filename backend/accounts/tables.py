"""People, their tokens (e-mail confirmation, password reset) and their memberships."""

from piccolo.columns import Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.directory.tables import Structure


class User(Table, tablename="app_user"):  # "user" is reserved in PostgreSQL
    email = Varchar(length=254, unique=True, index=True)
    password_hash = Varchar(length=255)
    first_name = Varchar(length=100)
    last_name = Varchar(length=100)
    email_confirmed_at = Timestamptz(null=True, default=None)
    is_active = Boolean(default=True)
    # Sessions carry the epoch they were opened in; raising it (a password reset) ends every
    # session opened before, on every host, without a registry of session ids.
    session_epoch = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class SignupRequest(Table):
    """The structure a person asked for at sign-up, kept until they confirm their address.

    Only a confirmed person can create a structure or ask to join one: an unconfirmed
    sign-up never holds a SIRET (a stranger could otherwise squat a company's structure
    before the company itself signs up), and it expires with its confirmation link."""

    user = ForeignKey(references=User, unique=True, index=True)
    siret = Varchar(length=14, index=True)
    company_name = Varchar(length=255)
    created_at = Timestamptz(default=TimestamptzNow())


class AccountToken(Table):
    """Single-use link secret; only its SHA-256 is stored."""

    user = ForeignKey(references=User, index=True)
    purpose = Varchar(length=16)  # "confirm" | "reset"
    token_hash = Varchar(length=64, unique=True, index=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table):
    """A user's attachment (rattachement) to a structure, with rights (habilitations)."""

    user = ForeignKey(references=User, index=True)
    structure = ForeignKey(references=Structure, index=True)
    status = Varchar(length=16, index=True)  # "pending" | "active" | "refused"
    is_manager = Boolean(default=False)  # gestionnaire
    can_deposit = Boolean(default=False)  # saisie + dépôt
    can_consult = Boolean(default=True)
    can_process = Boolean(default=False)  # public side: traiter les factures reçues
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Integer(null=True, default=None)

