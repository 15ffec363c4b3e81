"""Passkeys and security keys (WebAuthn) as a second factor, verified with py_webauthn.

The browser side is frontend/static/js/passkeys.js (navigator.credentials). The relying
party is the site of FACTEUR_BASE_URL: its host name is the RP ID and its origin is the only
one accepted, so a credential made for Facteur answers nowhere else.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, base64url_to_bytes, parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from backend.accounts import twofactor
from backend.accounts.memberships import NOT_FOUND
from backend.accounts.service import AccountError
from backend.accounts.tables import Passkey, User
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.settings import Settings

RP_NAME = "Facteur"
TIMEOUT_MS = 120_000
MAX_NAME = 100
_TRANSPORTS = {t.value for t in AuthenticatorTransport}

REFUSED = AccountError("passkey_refused", "La clé n'a pas pu être vérifiée. Réessayez, ou utilisez un autre moyen.")


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str


def relying_party(settings: Settings) -> RelyingParty:
    parts = urlsplit(settings.base_url)
    return RelyingParty(id=parts.hostname or "localhost", origin=f"{parts.scheme}://{parts.netloc}")


def available(settings: Settings) -> bool:
    """Browsers refuse an IP address as relying party: passkeys need FACTEUR_BASE_URL to name a host."""
    try:
        ipaddress.ip_address(relying_party(settings).id)
    except ValueError:
        return True
    return False


def _descriptors(rows: list[dict]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(row["credential_id"]),
            transports=[AuthenticatorTransport(t) for t in row["transports"].split(",") if t in _TRANSPORTS] or None,
        )
        for row in rows
    ]


async def _credentials_of(user_id: int) -> list[dict]:
    return await Passkey.select(Passkey.credential_id, Passkey.transports).where(Passkey.user == user_id)


async def registration_options(user: User, settings: Settings) -> tuple[str, str]:
    """The options for navigator.credentials.create() as JSON, and the challenge to keep in the session."""
    rp = relying_party(settings)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        user_id=f"facteur-user-{user.id}".encode(),  # stable, and no personal data in the handle
        user_name=user.email,
        user_display_name=f"{user.first_name} {user.last_name}".strip() or user.email,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,  # a second factor: the account is known already
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(await _credentials_of(user.id)),  # the same key twice is refused
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


def name_error(name: str) -> str | None:
    if not name.strip():
        return "Donnez un nom à cette clé (par exemple « Téléphone » ou « Clé USB »)."
    if len(name.strip()) > MAX_NAME:
        return f"Le nom est trop long ({MAX_NAME} caractères au plus)."
    return None


async def register(user_id: int, name: str, credential: dict, challenge: str | None, settings: Settings) -> None:
    """Verify the browser's answer to the registration options and keep the credential."""
    if message := name_error(name):
        raise AccountError("invalid", message, "name")
    if not challenge:
        raise AccountError("passkey_expired", "La demande a expiré : recommencez l'ajout de la clé.")
    rp = relying_party(settings)
    try:
        verified = await anyio.to_thread.run_sync(lambda: verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id, expected_origin=rp.origin))
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise REFUSED from exc
    transports = credential.get("response", {}).get("transports") or []
    credential_id = bytes_to_base64url(verified.credential_id)
    async with transaction():
        if await Passkey.exists().where(Passkey.credential_id == credential_id):
            raise AccountError("passkey_exists", "Cette clé est déjà enregistrée.")
        await Passkey.insert(Passkey(
            user=user_id, name=name.strip(), credential_id=credential_id,
            public_key=bytes_to_base64url(verified.credential_public_key), sign_count=verified.sign_count,
            transports=",".join(t for t in transports if isinstance(t, str) and t in _TRANSPORTS),
        ))
        await twofactor.record(user_id, "passkey_added", name.strip())


async def authentication_options(user_id: int, settings: Settings) -> tuple[str, str]:
    """Options for navigator.credentials.get() limited to this user's keys, and the challenge."""
    rows = await _credentials_of(user_id)
    if not rows:
        raise AccountError("no_passkey", "Aucune clé d'accès n'est enregistrée sur ce compte.")
    options = generate_authentication_options(
        rp_id=relying_party(settings).id, timeout=TIMEOUT_MS, allow_credentials=_descriptors(rows),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


async def authenticate(user_id: int, credential: dict, challenge: str | None, settings: Settings) -> bool:
    """Whether the browser's answer is a valid signature by one of this user's keys."""
    if not challenge:
        return False
    try:
        parsed = parse_authentication_credential_json(json.dumps(credential))
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return False
    row = await Passkey.objects().get((Passkey.user == user_id) & (Passkey.credential_id == bytes_to_base64url(parsed.raw_id)))
    if row is None:
        return False
    rp = relying_party(settings)
    try:
        verified = await anyio.to_thread.run_sync(lambda: verify_authentication_response(
            credential=parsed, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=base64url_to_bytes(row.public_key),
            credential_current_sign_count=row.sign_count))
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return False  # includes a signature counter gone backwards: a cloned key
    await Passkey.update({Passkey.sign_count: verified.new_sign_count, Passkey.last_used_at: utcnow()}).where(Passkey.id == row.id)
    return True


async def remove(user_id: int, passkey_id: int, required: bool) -> None:
    async with transaction():
        row = await Passkey.objects().get((Passkey.id == passkey_id) & (Passkey.user == user_id))
        if row is None:
            raise NOT_FOUND
        await twofactor.refuse_removing_last_factor(user_id, required, passkey_id=passkey_id)
        await Passkey.delete().where(Passkey.id == passkey_id)
        await twofactor.record(user_id, "passkey_removed", row.name)
        await twofactor.forget_codes_without_factor(user_id)
