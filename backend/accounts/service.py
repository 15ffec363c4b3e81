"""Accounts: sign-up, e-mail confirmation, login, password reset, memberships and rights.

Controllers only translate HTTP to these functions; every rule lives here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

import msgspec

from backend.accounts.passwords import hash_password, verify_password
from backend.accounts.tables import AccountToken, Membership, RememberedDevice, SignupRequest, User
from backend.lib.common import fold, utcnow
from backend.lib.db import is_unique_violation, transaction
from backend.directory.identifiers import clean_siret, siren_of, siret_error
from backend.directory.tables import Structure
from backend.invoices.generation.glyphs import unprintable_error  # the name prints on every invoice

CONFIRM_TTL = timedelta(hours=48)
INVITE_TTL = timedelta(hours=48)
UNUSABLE_PASSWORD = "!"  # never a valid argon2 hash: no password opens the account before it is chosen
RESET_TTL = timedelta(hours=1)
MIN_PASSWORD_LENGTH = 12
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SignupForm(msgspec.Struct, kw_only=True):
    company_name: str = ""
    siret: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    password: str = ""


@dataclass
class SignupOutcome:
    """What a sign-up asked for; nothing is created in the structure's name before the
    address is confirmed (see `confirm_email`)."""

    user_id: int
    siret: str
    structure_name: str
    will_manage: bool  # as things stand: nobody manages that structure yet
    confirm_token: str


@dataclass
class Confirmation:
    """What confirming the address did: created or joined a structure, or asked to."""

    user_id: int
    structure_id: int | None = None
    structure_name: str = ""
    joined_as_manager: bool = False
    managers_to_notify: list[str] = field(default_factory=list)


class AccountError(Exception):
    """A refusal the user can act on: `code` is stable, `message` is French."""

    def __init__(self, code: str, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_name = field_name


def normalize_email(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def email_error(email: str) -> str | None:
    if not email:
        return "L'adresse e-mail est obligatoire."
    if len(email) > 254 or not _EMAIL_RE.match(email):
        return "Cette adresse e-mail n'est pas valide."
    if not email.split("@", 1)[0].isascii():
        # Browsers refuse such addresses in e-mail fields: the account could never log in.
        return "Cette adresse e-mail n'est pas valide : pas d'accent ni de caractère spécial avant le « @ »."
    return None


def password_error(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères."
    if len(password) > 1024:
        return "Le mot de passe est trop long (1024 caractères au plus)."
    return None


def _required(value: str, label: str, max_len: int) -> str | None:
    if not value.strip():
        return f"{label} est obligatoire."
    if len(value) > max_len:
        return f"{label} est trop long ({max_len} caractères au plus)."
    return None


def validate_signup(form: SignupForm) -> dict[str, str]:
    errors = {
        "company_name": _required(form.company_name, "La raison sociale", 255)
        or unprintable_error("La raison sociale", form.company_name.strip()),
        "siret": siret_error(form.siret),
        "first_name": _required(form.first_name, "Le prénom", 100),
        "last_name": _required(form.last_name, "Le nom", 100),
        "email": email_error(normalize_email(form.email)),
        "password": password_error(form.password),
    }
    return {k: v for k, v in errors.items() if v}


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def _new_token(user_id: int, purpose: str, ttl: timedelta) -> str:
    raw = secrets.token_urlsafe(32)
    await AccountToken.insert(
        AccountToken(user=user_id, purpose=purpose, token_hash=_token_hash(raw), expires_at=utcnow() + ttl)
    )
    return raw


async def _email_taken(email: str) -> bool:
    return await User.exists().where(User.email == email)


async def active_managers(structure_id: int) -> list[dict]:
    return (
        await Membership.select(Membership.user.id, Membership.user.email)
        .where(
            (Membership.structure == structure_id)
            & (Membership.status == "active")
            & (Membership.is_manager == True)  # noqa: E712
        )
        .output(nested=True)
    )


async def signup(form: SignupForm) -> SignupOutcome:
    """Create the unconfirmed user and remember the structure asked for; all or nothing."""
    errors = validate_signup(form)
    if errors:
        field_name, message = next(iter(errors.items()))
        raise AccountError("invalid", message, field_name)
    email = normalize_email(form.email)
    siret = clean_siret(form.siret)
    password_hash = await hash_password(form.password)  # outside the write lock
    async with transaction():
        await _forget_expired_signup(email)
        if await _email_taken(email):
            raise AccountError("email_taken", "Un compte existe déjà avec cette adresse e-mail.", "email")
        user = User(
            email=email,
            password_hash=password_hash,
            first_name=form.first_name.strip(),
            last_name=form.last_name.strip(),
        )
        await user.save()
        await SignupRequest.insert(SignupRequest(user=user.id, siret=siret, company_name=form.company_name.strip()))
        token = await _new_token(user.id, "confirm", CONFIRM_TTL)
        structure = await Structure.objects().get(Structure.siret == siret)
    will_manage = structure is None or (not structure.is_public and not await active_managers(structure.id))
    return SignupOutcome(user_id=user.id, siret=siret, structure_name=structure.name if structure else form.company_name.strip(),
                         will_manage=will_manage, confirm_token=token)


async def _forget_expired_signup(email: str) -> None:
    """An unconfirmed account whose every confirmation link has expired blocks nobody: a new
    sign-up with its address replaces it (with its tokens and its request)."""
    user = await User.objects().get((User.email == email) & User.email_confirmed_at.is_null())
    if user is None or await AccountToken.exists().where(
            (AccountToken.user == user.id) & (AccountToken.purpose == "confirm") & (AccountToken.expires_at > utcnow())):
        return
    if await Membership.exists().where(Membership.user == user.id):
        return  # invited or attached by a gestionnaire: not a stranger's sign-up
    await User.delete().where(User.id == user.id)  # tokens and request go with it (cascade)


async def _settle_signup_request(user_id: int) -> Confirmation:
    """At confirmation: create the structure asked for, or join it, or ask its managers."""
    request = await SignupRequest.objects().get(SignupRequest.user == user_id)
    if request is None:
        return Confirmation(user_id)  # an invitation, or an account confirmed before
    await SignupRequest.delete().where(SignupRequest.id == request.id)
    structure = await Structure.objects().get(Structure.siret == request.siret)
    if structure is None:
        structure = await create_supplier_structure(request.siret, request.company_name)
    joined_as_manager, managers = await _attach_new_user(user_id, structure)
    return Confirmation(user_id, structure.id, structure.name, joined_as_manager, managers)


async def create_supplier_structure(siret: str, name: str) -> Structure:
    structure = Structure(
        siret=siret,
        siren=siren_of(siret),
        name=name.strip(),
        search_key=fold(name),
    )
    await structure.save()
    return structure


async def _attach_new_user(user_id: int, structure: Structure) -> tuple[bool, list[str]]:
    """First member of a supplier structure manages it; otherwise a join request goes to its managers."""
    managers = await active_managers(structure.id)
    if not managers and not structure.is_public:
        await Membership.insert(_manager_membership(user_id, structure.id))
        return True, []
    await Membership.insert(Membership(user=user_id, structure=structure.id, status="pending"))
    return False, [m["user"]["email"] for m in managers]


def _manager_membership(user_id: int, structure_id: int) -> Membership:
    return Membership(
        user=user_id,
        structure=structure_id,
        status="active",
        is_manager=True,
        can_deposit=True,
        can_consult=True,
        can_process=True,
        is_principal=True,  # the structure's first gestionnaire is its principal gestionnaire
        decided_at=utcnow(),
    )


async def _usable_token(raw: str, purpose: str) -> AccountToken:
    token = await AccountToken.objects().get(
        (AccountToken.token_hash == _token_hash(raw or "")) & (AccountToken.purpose == purpose)
    )
    if token is None:
        raise AccountError("token_invalid", "Ce lien n'est pas valide. Vérifiez qu'il est complet.")
    if token.used_at is not None:
        raise AccountError("token_used", "Ce lien a déjà été utilisé : il ne sert qu'une fois.")
    if token.expires_at <= utcnow():
        raise AccountError("token_expired", "Ce lien a expiré. Demandez-en un nouveau.")
    return token


async def consume_token(raw: str, purpose: str) -> int:
    """Mark a single-use token used and return its user id, or raise a coded error."""
    async with transaction():
        token = await _usable_token(raw, purpose)
        await AccountToken.update({AccountToken.used_at: utcnow()}).where(
            (AccountToken.id == token.id) & (AccountToken.used_at.is_null())
        )
    return token.user


async def confirm_email(raw: str) -> Confirmation:
    try:
        return await _confirm(raw)
    except Exception as exc:
        # Two people of one company confirming at the same instant: the other one created
        # the structure first (unique SIRET) and nothing of this attempt was written; again,
        # this one becomes a join request.
        if not is_unique_violation(exc):
            raise
        return await _confirm(raw)


async def _confirm(raw: str) -> Confirmation:
    async with transaction():
        user_id = await consume_token(raw, "confirm")
        await User.update({User.email_confirmed_at: utcnow()}).where(
            (User.id == user_id) & (User.email_confirmed_at.is_null())
        )
        return await _settle_signup_request(user_id)


async def new_confirmation_token(email: str) -> tuple[User, str] | None:
    """A fresh confirmation link for an unconfirmed account, or None (said the same way to the user)."""
    user = await User.objects().get(User.email == normalize_email(email))
    if user is None or user.email_confirmed_at is not None:
        return None
    return user, await _new_token(user.id, "confirm", CONFIRM_TTL)


async def authenticate(email: str, password: str) -> User | None:
    """The user when the password matches; the same answer for unknown e-mail and wrong password."""
    user = await User.objects().get(User.email == normalize_email(email))
    ok = await verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    return user


async def invite_user(email: str, first_name: str, last_name: str) -> tuple[int, str]:
    """Create an account without a password; the returned token lets the invitee choose one."""
    user = User(email=email, password_hash=UNUSABLE_PASSWORD, first_name=first_name, last_name=last_name)
    await user.save()
    return user.id, await _new_token(user.id, "reset", INVITE_TTL)


async def start_password_reset(email: str) -> tuple[User, str] | None:
    user = await User.objects().get(User.email == normalize_email(email))
    if user is None or not user.is_active:
        return None
    return user, await _new_token(user.id, "reset", RESET_TTL)


async def check_reset_token(raw: str) -> None:
    """Tell early (on the form's GET) whether a reset link is still usable."""
    await _usable_token(raw, "reset")


async def reset_password(raw: str, new_password: str) -> int:
    if message := password_error(new_password):
        raise AccountError("invalid", message, "password")
    password_hash = await hash_password(new_password)
    async with transaction():
        user_id = await consume_token(raw, "reset")
        # A reset proves control of the mailbox, so it also confirms the address.
        # A new epoch ends every session opened with the old password (a thief's included).
        await User.update({User.password_hash: password_hash, User.session_epoch: User.session_epoch + 1}).where(User.id == user_id)
        # Remembered devices skip the second factor: whoever reset the password forgets them all.
        await RememberedDevice.delete().where(RememberedDevice.user == user_id)
        await User.update({User.email_confirmed_at: utcnow()}).where(
            (User.id == user_id) & User.email_confirmed_at.is_null()
        )
    return user_id
