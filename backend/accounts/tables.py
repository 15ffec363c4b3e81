"""People, their tokens (e-mail confirmation, password reset) and their memberships."""

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
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
    # Rights per space, "emises:modification,recues:consultation" (backend/accounts/spaces.py);
    # NULL: the rights the flags above map to.
    space_rights = Varchar(length=255, null=True, default=None)
    is_principal = Boolean(default=False)  # the principal gestionnaire (the others are secondary)


class StructureSpaces(Table):
    """The spaces a structure's gestionnaire activated (codes, comma-separated); no row: the
    default spaces of the structure's side."""

    structure = ForeignKey(references=Structure, unique=True, index=True)
    spaces = Varchar(length=255, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class SpaceRequest(Table):
    """A member's request for a right in a space, waiting in the gestionnaires' "Approbations"."""

    membership = ForeignKey(references=Membership, index=True)
    space = Varchar(length=32)
    level = Varchar(length=16)  # consultation | modification
    status = Varchar(length=16, default="pending", index=True)  # pending | accepted | refused
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Integer(null=True, default=None)



# --- Two-factor login (backend/accounts/twofactor.py, passkeys.py) ---

class TotpSecret(Table):
    """A user's authenticator-app secret, sealed with AES-GCM (never stored or logged in clear).

    Unconfirmed until a first valid code proves the app holds it; `last_step` is the newest
    30-second time step accepted, so a code (or an older one) is never accepted twice."""

    user = ForeignKey(references=User, unique=True, index=True)
    sealed_secret = Varchar(length=255)
    confirmed_at = Timestamptz(null=True, default=None)
    last_step = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class RecoveryCode(Table):
    """A one-time recovery code; only its SHA-256 is stored."""

    user = ForeignKey(references=User, index=True)
    code_hash = Varchar(length=64, index=True)
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Passkey(Table):
    """A WebAuthn credential (passkey or security key) registered as a second factor."""

    user = ForeignKey(references=User, index=True)
    name = Varchar(length=100)
    credential_id = Varchar(length=1400, unique=True, index=True)  # base64url, up to 1023 bytes
    public_key = Text()  # COSE key, base64url
    sign_count = BigInt(default=0)
    transports = Varchar(length=255, default="")  # comma-separated hints for the browser
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)


class RememberedDevice(Table):
    """A browser that skips the second step for 30 days; its signed cookie names this row and
    carries a secret whose SHA-256 is stored here. Deleting the row forgets the device."""

    user = ForeignKey(references=User, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    label = Varchar(length=120, default="")  # what the browser said it was, to recognise it in the list
    expires_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)


class SecurityEvent(Table):
    """Append-only history of a user's second-factor changes, shown in their "Sécurité" section."""

    user = ForeignKey(references=User, index=True)
    kind = Varchar(length=32)  # totp_enabled, passkey_added, reset_by_manager…
    detail = Varchar(length=255, default="")
    actor = Integer(null=True, default=None)  # the gestionnaire's user id for a reset
    structure = Integer(null=True, default=None)  # the structure the reset was made from
    created_at = Timestamptz(default=TimestamptzNow())
