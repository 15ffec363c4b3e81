"""Webhook signing secrets: generated, shown once, stored sealed with AES-GCM; the signature of a delivery.

A signing secret cannot be hashed (the worker needs it to sign every delivery), so it is
encrypted under a key derived from FACTEUR_SECRET_KEY: a copy of the database alone does
not let anyone forge deliveries. The structure id is bound as associated data, so a sealed
secret copied onto another structure's webhook does not open. Changing FACTEUR_SECRET_KEY
makes existing secrets unreadable: their webhooks must then be recreated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "whsec_"
VERSION = "v1"


class SealError(ValueError):
    """The sealed secret does not open with this key (the app secret key changed?)."""


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hint(secret: str) -> str:
    return secret[: len(PREFIX) + 4]


def _key(app_secret: str) -> bytes:
    # A key of its own for this purpose, derived from the app secret (not the CSRF key itself).
    return hmac.new(app_secret.encode(), b"facteur webhook secrets v1", hashlib.sha256).digest()


def seal(secret: str, *, app_secret: str, structure_id: int) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(app_secret)).encrypt(nonce, secret.encode(), str(structure_id).encode())
    return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(sealed: str, *, app_secret: str, structure_id: int) -> str:
    version, _, data = sealed.partition(":")
    if version != VERSION:
        raise SealError(f"unknown sealed secret version {version!r}")
    raw = base64.urlsafe_b64decode(data.encode())
    try:
        return AESGCM(_key(app_secret)).decrypt(raw[:12], raw[12:], str(structure_id).encode()).decode()
    except Exception as exc:  # InvalidTag: wrong key or tampered row
        raise SealError("the webhook secret does not open with this FACTEUR_SECRET_KEY") from exc


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The Facteur-Signature header value: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"
