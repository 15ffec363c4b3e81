"""Two-factor login: authenticator-app codes (TOTP), one-time recovery codes, remembered
devices, the policy that requires a second factor of gestionnaires, and its reset.

Passkeys (WebAuthn) live in backend/accounts/passkeys.py; both count as a second factor.
Controllers only translate HTTP to these functions; every rule lives here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
import pyotp
import segno
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.accounts.memberships import NOT_FOUND, require_manager
from backend.accounts.service import AccountError
from backend.accounts.tables import Membership, Passkey, RecoveryCode, RememberedDevice, SecurityEvent, TotpSecret, User
from backend.lib.common import utcnow
from backend.lib.db import transaction
from backend.settings import Settings

ISSUER = "Facteur"
STEP_SECONDS = 30  # what every authenticator app uses, with 6 digits and SHA-1
WINDOW = 1  # one step either side: a phone clock 30 s off still works
RECOVERY_CODE_COUNT = 10
REMEMBER_FOR = timedelta(days=30)
DEVICE_COOKIE = "facteur_device"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread on paper
_CODE_RE = re.compile(r"^\d{6}$")

TOTP_INVALID = AccountError("code_invalid", "Ce code n'est pas valide ou a déjà servi. Saisissez le code affiché maintenant par votre application.", "code")
RECOVERY_INVALID = AccountError("recovery_code_invalid", "Ce code de secours n'est pas valide ou a déjà servi.", "recovery_code")


# --- The policy ---

def required_for(settings: Settings, memberships: list[dict]) -> bool:
    """Whether this person must have a second factor: a gestionnaire of any structure when
    FACTEUR_TWO_FACTOR is "managers"."""
    return settings.two_factor == "managers" and any(m["is_manager"] for m in memberships)


async def is_manager_somewhere(user_id: int) -> bool:
    return await Membership.exists().where(
        (Membership.user == user_id) & (Membership.status == "active") & (Membership.is_manager == True)  # noqa: E712
    )


async def has_second_factor(user_id: int) -> bool:
    """A confirmed authenticator app or a passkey (recovery codes only stand in for them)."""
    if await TotpSecret.exists().where((TotpSecret.user == user_id) & TotpSecret.confirmed_at.is_not_null()):
        return True
    return await Passkey.exists().where(Passkey.user == user_id)


async def record(user_id: int, kind: str, detail: str = "", actor: int | None = None, structure: int | None = None) -> None:
    await SecurityEvent.insert(SecurityEvent(user=user_id, kind=kind, detail=detail[:255], actor=actor, structure=structure))


# --- Authenticator app (TOTP) ---

def _sealing_key(app_secret: str) -> bytes:
    # A key of its own, derived from FACTEUR_SECRET_KEY: a copy of the database alone does not
    # reveal anyone's secret. Changing FACTEUR_SECRET_KEY means everyone re-enrols their app.
    return hmac.new(app_secret.encode(), b"facteur totp secrets v1", hashlib.sha256).digest()


def seal(secret: str, app_secret: str, user_id: int) -> str:
    nonce = os.urandom(12)
    # The user id is bound as associated data: a sealed secret copied onto another account does not open.
    sealed = AESGCM(_sealing_key(app_secret)).encrypt(nonce, secret.encode(), str(user_id).encode())
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(sealed: str, app_secret: str, user_id: int) -> str:
    raw = base64.urlsafe_b64decode(sealed.removeprefix("v1:").encode())
    return AESGCM(_sealing_key(app_secret)).decrypt(raw[:12], raw[12:], str(user_id).encode()).decode()


def matching_step(secret: str, code: str, now: datetime, after_step: int) -> int | None:
    """The time step (±WINDOW around now) whose code this is, if newer than `after_step`."""
    code = normalize_code(code)
    if not _CODE_RE.match(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - WINDOW, current + WINDOW + 1):
        if step > after_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def normalize_code(raw: str) -> str:
    return "".join((raw or "").split())


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str  # shown as the manual key, grouped by four
    qr_svg: str

    @property
    def manual_key(self) -> str:
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


async def start_totp(user: User, app_secret: str) -> TotpEnrolment:
    """A new unconfirmed secret (replacing an unconfirmed one); the confirmed one stays until replaced."""
    secret = pyotp.random_base32()  # 160 bits
    async with transaction():
        existing = await TotpSecret.objects().get(TotpSecret.user == user.id)
        if existing is not None and existing.confirmed_at is not None:
            raise AccountError("totp_already_enabled", "Une application d'authentification est déjà configurée. Retirez-la d'abord pour en configurer une autre.")
        await TotpSecret.delete().where(TotpSecret.user == user.id)
        await TotpSecret.insert(TotpSecret(user=user.id, sealed_secret=seal(secret, app_secret, user.id)))
    return await enrolment_of(user, secret)


async def pending_enrolment(user: User, app_secret: str) -> TotpEnrolment | None:
    """The unconfirmed secret being set up (to show the page again after a wrong code)."""
    row = await TotpSecret.objects().get((TotpSecret.user == user.id) & TotpSecret.confirmed_at.is_null())
    return await enrolment_of(user, unseal(row.sealed_secret, app_secret, user.id)) if row else None


async def enrolment_of(user: User, secret: str) -> TotpEnrolment:
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return TotpEnrolment(secret, await anyio.to_thread.run_sync(_qr_svg, uri))


def _qr_svg(uri: str) -> str:
    # Drawn here, as inline SVG: the secret never leaves the server for a QR-code service.
    return segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff",
                                                 title="QR code à scanner avec votre application d'authentification")


async def confirm_totp(user_id: int, code: str, app_secret: str, now: datetime | None = None) -> None:
    """The first valid code confirms the enrolment; raises TOTP_INVALID otherwise."""
    row = await TotpSecret.objects().get((TotpSecret.user == user_id) & TotpSecret.confirmed_at.is_null())
    if row is None:
        raise AccountError("totp_not_started", "Recommencez la configuration : aucune application n'est en cours d'ajout.")
    step = matching_step(unseal(row.sealed_secret, app_secret, user_id), code, now or utcnow(), row.last_step)
    if step is None:
        raise TOTP_INVALID
    async with transaction():
        await TotpSecret.update({TotpSecret.confirmed_at: utcnow(), TotpSecret.last_step: step}).where(TotpSecret.id == row.id)
        await record(user_id, "totp_enabled")


async def verify_totp(user_id: int, code: str, app_secret: str, now: datetime | None = None) -> bool:
    """A valid code of the confirmed app, never accepted twice (nor one older than the last)."""
    row = await TotpSecret.objects().get((TotpSecret.user == user_id) & TotpSecret.confirmed_at.is_not_null())
    if row is None:
        return False
    step = matching_step(unseal(row.sealed_secret, app_secret, user_id), code, now or utcnow(), row.last_step)
    if step is None:
        return False
    # Conditional on the step still being newer: of two requests with the same code, one wins.
    won = await TotpSecret.update({TotpSecret.last_step: step}).where(
        (TotpSecret.id == row.id) & (TotpSecret.last_step < step)).returning(TotpSecret.id)
    return bool(won)


async def remove_totp(user_id: int, required: bool) -> None:
    async with transaction():
        await refuse_removing_last_factor(user_id, required, totp=True)
        await TotpSecret.delete().where(TotpSecret.user == user_id)
        await record(user_id, "totp_removed")
        await forget_codes_without_factor(user_id)


async def refuse_removing_last_factor(user_id: int, required: bool, *, totp: bool = False, passkey_id: int | None = None) -> None:
    """A gestionnaire who must have a second factor cannot remove the last one."""
    if not required:
        return
    passkeys_left = await Passkey.count().where((Passkey.user == user_id) & (Passkey.id != (passkey_id or 0)))
    totp_left = not totp and await TotpSecret.exists().where((TotpSecret.user == user_id) & TotpSecret.confirmed_at.is_not_null())
    if not passkeys_left and not totp_left:
        raise AccountError("second_factor_required", "En tant que gestionnaire, vous devez garder au moins une double authentification : ajoutez-en une autre avant de retirer celle-ci.")


async def forget_codes_without_factor(user_id: int) -> None:
    """Recovery codes and remembered devices stand for a factor: without any, they go too."""
    if not await has_second_factor(user_id):
        await RecoveryCode.delete().where(RecoveryCode.user == user_id)
        await RememberedDevice.delete().where(RememberedDevice.user == user_id)


# --- Recovery codes ---

def _code_hash(code: str) -> str:
    # 50 random bits each, used once, and the account is throttled: a fast hash is enough.
    return hashlib.sha256(normalize_recovery_code(code).encode()).hexdigest()


def normalize_recovery_code(raw: str) -> str:
    return "".join(c for c in (raw or "").lower() if c.isalnum())


def _new_recovery_code() -> str:
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


async def new_recovery_codes(user_id: int) -> list[str]:
    """Ten fresh codes replacing every earlier one; returned once, only their hashes are kept."""
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    async with transaction():
        await RecoveryCode.delete().where(RecoveryCode.user == user_id)
        await RecoveryCode.insert(*[RecoveryCode(user=user_id, code_hash=_code_hash(code)) for code in codes])
        await record(user_id, "recovery_codes_generated")
    return codes


async def use_recovery_code(user_id: int, raw: str) -> bool:
    """True once per code: the update that marks it used is the check."""
    if len(normalize_recovery_code(raw)) != 10:
        return False
    used = await RecoveryCode.update({RecoveryCode.used_at: utcnow()}).where(
        (RecoveryCode.user == user_id) & (RecoveryCode.code_hash == _code_hash(raw)) & RecoveryCode.used_at.is_null()
    ).returning(RecoveryCode.id)
    if used:
        await record(user_id, "recovery_code_used")
    return bool(used)


async def recovery_codes_left(user_id: int) -> int:
    return await RecoveryCode.count().where((RecoveryCode.user == user_id) & RecoveryCode.used_at.is_null())


def recovery_codes_text(email: str, codes: list[str]) -> str:
    lines = [f"Facteur — codes de secours de {email}", "",
             "Chaque code ne sert qu'une fois, à la place du code de votre application ou de votre clé.", ""]
    return "\n".join(lines + codes) + "\n"


# --- Remembered devices ---

def _device_key(app_secret: str) -> bytes:
    return hmac.new(app_secret.encode(), b"facteur remembered devices v1", hashlib.sha256).digest()


def _signature(payload: str, app_secret: str) -> str:
    mac = hmac.new(_device_key(app_secret), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


async def remember_device(user_id: int, label: str, app_secret: str) -> str:
    """A new remembered device; returns the cookie value: "<row id>.<secret>.<signature>"."""
    token = secrets.token_urlsafe(32)
    device = RememberedDevice(user=user_id, token_hash=hashlib.sha256(token.encode()).hexdigest(), label=label[:120],
                              expires_at=utcnow() + REMEMBER_FOR)
    await device.save()
    payload = f"{device.id}.{token}"
    return f"{payload}.{_signature(payload, app_secret)}"


async def remembered(user_id: int, cookie: str | None, app_secret: str) -> bool:
    """Whether this browser's cookie is a live remembered device of this user."""
    parts = (cookie or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 10:
        return False
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _signature(payload, app_secret)):
        return False
    token_hash = hashlib.sha256(parts[1].encode()).hexdigest()
    seen = await RememberedDevice.update({RememberedDevice.last_used_at: utcnow()}).where(
        (RememberedDevice.id == int(parts[0])) & (RememberedDevice.user == user_id)
        & (RememberedDevice.token_hash == token_hash) & (RememberedDevice.expires_at > utcnow())
    ).returning(RememberedDevice.id)
    return bool(seen)


async def remembered_devices(user_id: int) -> list[dict]:
    return await RememberedDevice.select(
        RememberedDevice.id, RememberedDevice.label, RememberedDevice.created_at,
        RememberedDevice.expires_at, RememberedDevice.last_used_at,
    ).where((RememberedDevice.user == user_id) & (RememberedDevice.expires_at > utcnow())).order_by(RememberedDevice.created_at, ascending=False)


async def forget_device(user_id: int, device_id: int) -> None:
    deleted = await RememberedDevice.delete().where(
        (RememberedDevice.id == device_id) & (RememberedDevice.user == user_id)).returning(RememberedDevice.id)
    if not deleted:
        raise NOT_FOUND


def device_label(user_agent: str) -> str:
    """"Chrome · Android": enough to recognise one's own devices in the list."""
    ua = user_agent or ""
    browser = next((name for key, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                                           ("Safari/", "Safari")) if key in ua), "Navigateur")
    system = next((name for key, name in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                                          ("Windows", "Windows"), ("Mac OS", "macOS"), ("Linux", "Linux")) if key in ua), "")
    return f"{browser} · {system}" if system else browser


# --- The whole picture, disabling, and the reset by another gestionnaire ---

@dataclass
class SecurityStatus:
    totp: bool
    totp_pending: bool
    passkeys: list[dict]
    recovery_codes_left: int
    recovery_codes_total: int
    devices: list[dict]
    events: list[dict]

    @property
    def enabled(self) -> bool:
        return self.totp or bool(self.passkeys)


async def status(user_id: int) -> SecurityStatus:
    totp = await TotpSecret.objects().get(TotpSecret.user == user_id)
    passkeys = await Passkey.select(Passkey.id, Passkey.name, Passkey.created_at, Passkey.last_used_at).where(
        Passkey.user == user_id).order_by(Passkey.created_at)
    events = await SecurityEvent.select(SecurityEvent.kind, SecurityEvent.detail, SecurityEvent.created_at).where(
        SecurityEvent.user == user_id).order_by(SecurityEvent.created_at, ascending=False).order_by(SecurityEvent.id, ascending=False).limit(10)
    return SecurityStatus(
        totp=bool(totp and totp.confirmed_at), totp_pending=bool(totp and not totp.confirmed_at), passkeys=passkeys,
        recovery_codes_left=await recovery_codes_left(user_id),
        recovery_codes_total=await RecoveryCode.count().where(RecoveryCode.user == user_id),
        devices=await remembered_devices(user_id), events=events,
    )


async def _remove_everything(user_id: int) -> None:
    await TotpSecret.delete().where(TotpSecret.user == user_id)
    await Passkey.delete().where(Passkey.user == user_id)
    await RecoveryCode.delete().where(RecoveryCode.user == user_id)
    await RememberedDevice.delete().where(RememberedDevice.user == user_id)


async def disable(user_id: int, required: bool) -> None:
    """The person turns two-factor login off (refused to a gestionnaire who must keep it)."""
    if required:
        raise AccountError("second_factor_required", "En tant que gestionnaire, vous ne pouvez pas désactiver la double authentification.")
    async with transaction():
        await _remove_everything(user_id)
        await record(user_id, "disabled")


@dataclass(frozen=True)
class Reset:
    user_id: int
    email: str
    first_name: str
    structure_name: str


async def reset_by_manager(manager_id: int, manager_name: str, structure_id: int, membership_id: int) -> Reset:
    """Another gestionnaire of the same structure resets a member's lost second factor: every
    factor, recovery code and remembered device goes, every session ends (new epoch), and the
    member enrols again at their next login."""
    await require_manager(manager_id, structure_id)
    async with transaction():
        membership = await Membership.objects(Membership.structure).get(
            (Membership.id == membership_id) & (Membership.structure == structure_id) & (Membership.status == "active"))
        if membership is None:
            raise NOT_FOUND
        if membership.user == manager_id:
            raise AccountError("own_second_factor", "Vous ne pouvez pas réinitialiser votre propre double authentification : utilisez un code de secours, ou demandez-le à un autre gestionnaire.")
        await _remove_everything(membership.user)
        await User.update({User.session_epoch: User.session_epoch + 1}).where(User.id == membership.user)
        await record(membership.user, "reset_by_manager", detail=manager_name, actor=manager_id, structure=structure_id)
        user = await User.objects().get(User.id == membership.user)
    return Reset(user.id, user.email, user.first_name, membership.structure.name)


async def users_with_second_factor(user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    totp = await TotpSecret.select(TotpSecret.user).where(TotpSecret.user.is_in(user_ids) & TotpSecret.confirmed_at.is_not_null())
    passkeys = await Passkey.select(Passkey.user).where(Passkey.user.is_in(user_ids))
    return {row["user"] for row in [*totp, *passkeys]}
