"""VAPID keys (RFC 8292): from FACTEUR_VAPID_* or generated once into the data folder.

The private key is kept as PEM (what `webpush` and PyJWT read); the public key as the
base64url uncompressed point the browser wants as `applicationServerKey`. Several
processes may start at once on a fresh data folder: the key file is written under a
unique name and linked into place, so exactly one key pair wins and everyone reads it.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_FILE = "vapid_private_key.pem"
TOKEN_LIFETIME = 12 * 3600  # push services refuse tokens valid more than 24 h ahead
TOKEN_RENEW = 3600  # a cached token is replaced when it has less than this left


class VapidError(ValueError):
    """A FACTEUR_VAPID_* value the application cannot use (French message naming the variable)."""


@dataclass(frozen=True)
class VapidKeys:
    private_pem: str
    public_key: str  # base64url, unpadded, 65-byte uncompressed P-256 point
    subject: str  # mailto:… or https://…


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Strict base64url (padding optional): ValueError on any other character."""
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=" for c in text):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1:
        raise ValueError("bad length")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


def public_key_of(private: ec.EllipticCurvePrivateKey) -> str:
    return b64url(private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def _pem(private: ec.EllipticCurvePrivateKey) -> str:
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def _parse_private(raw: str) -> ec.EllipticCurvePrivateKey:
    """PEM, or the raw 32-byte scalar in base64url (what `web-push generate-vapid-keys` prints)."""
    raw = raw.strip()
    if raw.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(raw.replace("\\n", "\n").encode(), password=None)
    else:
        scalar = b64url_decode(raw)
        if len(scalar) != 32:
            raise ValueError("32 bytes expected")
        key = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not a P-256 key")
    return key


def _check_subject(subject: str) -> str:
    if subject.startswith("mailto:") and "@" in subject[7:]:
        return subject
    if subject.startswith("https://") and urlsplit(subject).netloc:
        return subject
    raise VapidError(f"FACTEUR_VAPID_SUBJECT doit être une adresse mailto:… ou une URL https://… (reçu {subject!r}).")


def _generated(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    key_file = data_dir / KEY_FILE
    if not key_file.exists():
        tmp = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        tmp.write_text(_pem(ec.generate_private_key(ec.SECP256R1())))
        tmp.chmod(0o600)
        try:
            os.link(tmp, key_file)  # fails if another process linked its key first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return _parse_private(key_file.read_text())


def load_keys(data_dir: Path, *, private: str | None, public: str | None, subject: str | None, default_subject: str) -> VapidKeys:
    """The keys from the environment (both or neither), else those of the data folder."""
    if bool(private) != bool(public):
        raise VapidError("FACTEUR_VAPID_PRIVATE_KEY et FACTEUR_VAPID_PUBLIC_KEY se donnent ensemble (ou aucune des deux).")
    if private:
        try:
            key = _parse_private(private)
        except ValueError:
            raise VapidError("FACTEUR_VAPID_PRIVATE_KEY doit être une clé P-256 (PEM, ou 32 octets en base64url).") from None
        if public_key_of(key) != public.strip().rstrip("="):
            raise VapidError("FACTEUR_VAPID_PUBLIC_KEY ne correspond pas à FACTEUR_VAPID_PRIVATE_KEY.")
    else:
        key = _generated(data_dir)
    return VapidKeys(private_pem=_pem(key), public_key=public_key_of(key), subject=_check_subject(subject or default_subject))


def default_subject(smtp_from: str) -> str:
    """mailto: the sender address of the e-mails ("Facteur <no-reply@…>" → mailto:no-reply@…)."""
    address = smtp_from.rsplit("<", 1)[-1].rstrip(">").strip()
    return f"mailto:{address}"


def origin(endpoint: str) -> str:
    """scheme://host[:port], the `aud` of the token (the port counts when it is not the default)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


class TokenCache:
    """One signed token per push service origin, reused for hours (ES256 signing per message is waste)."""

    def __init__(self, keys: VapidKeys) -> None:
        self.keys = keys
        self._tokens: dict[str, tuple[str, float]] = {}

    def authorization(self, endpoint: str) -> str:
        aud = origin(endpoint)
        now = time.time()
        cached = self._tokens.get(aud)
        if cached is None or cached[1] - now < TOKEN_RENEW:
            expires = int(now) + TOKEN_LIFETIME
            token = jwt.encode({"aud": aud, "exp": expires, "sub": self.keys.subject}, self.keys.private_pem, algorithm="ES256")
            cached = (token, expires)
            self._tokens[aud] = cached
        return f"vapid t={cached[0]}, k={self.keys.public_key}"
