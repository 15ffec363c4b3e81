"""A real Web Push service on 127.0.0.1 for the tests: it checks what a browser vendor's would.

For each POST to /push/<token> it checks the VAPID authorization (RFC 8292: `vapid t=<jwt>,
k=<key>`, an ES256 JWT verified with `k`, `aud` = this service's origin, `exp` in the next
24 h, `sub` set, `k` = the application's public key), the TTL header and the aes128gcm
content encoding, then decrypts the body (RFC 8291) with the subscriber's private keys
using `http_ece`, and records the payload with the headers. A refusal is recorded too
(with the reason), so a test can assert that nothing was refused.

A test scripts answers per subscriber: `gone()` (410 from then on), `fail_then_succeed(503)`,
`throttle(retry_after)` (one 429 with Retry-After, then success).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """A browser's side of a subscription: its ECDH key pair and auth secret (as pushManager makes them)."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    def subscription_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}


@dataclass
class Received:
    token: str
    payload: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.time() when decrypted


@dataclass
class Refused:
    token: str
    status: int
    reason: str


@dataclass
class _Script:
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # consumed one per request
    forever: int | None = None  # e.g. 410 once the subscription is gone


class PushService:
    def __init__(self, app_public_key: str) -> None:
        self.app_public_key = app_public_key
        self.subscribers: dict[str, Subscriber] = {}
        self.received: list[Received] = []
        self.refused: list[Refused] = []
        self.answered: list[tuple[str, int]] = []  # (token, status) of every request, in order
        self._scripts: dict[str, _Script] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="push-service", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> PushService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests use --------------------------------------------------------------------

    def subscriber(self) -> Subscriber:
        token = secrets.token_urlsafe(16)
        sub = Subscriber(token, f"{self.origin}/push/{token}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        self.subscribers[token] = sub
        return sub

    def gone(self, sub: Subscriber) -> None:
        self._scripts[sub.token] = _Script(forever=410)

    def fail_then_succeed(self, sub: Subscriber, status: int = 503, times: int = 1) -> None:
        self._scripts[sub.token] = _Script(answers=[(status, {})] * times)

    def throttle(self, sub: Subscriber, retry_after: int) -> None:
        self._scripts[sub.token] = _Script(answers=[(429, {"Retry-After": str(retry_after)})])

    def payloads(self, sub: Subscriber | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r.payload for r in self.received if sub is None or r.token == sub.token]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self._lock:
            return list(self.received)

    # --- the protocol ----------------------------------------------------------------------

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        token = path.removeprefix("/push/")
        sub = self.subscribers.get(token)
        if not path.startswith("/push/") or sub is None:
            return self._refuse(token, 404, "unknown subscription")
        script = self._scripts.get(token)
        if script is not None and script.forever is not None:
            return self._answer(token, script.forever, {})
        problem = self._check_vapid(headers.get("authorization", ""))
        if problem:
            return self._refuse(token, 401 if "missing" in problem else 403, problem)
        if headers.get("content-encoding") != "aes128gcm":
            return self._refuse(token, 415, "content-encoding must be aes128gcm")
        if not headers.get("ttl", "").isdigit():
            return self._refuse(token, 400, "TTL header required")
        if script is not None and script.answers:
            status, extra = script.answers.pop(0)
            return self._answer(token, status, extra)
        try:
            plain = http_ece.decrypt(body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm")
            payload = json.loads(plain)
        except Exception as exc:  # noqa: BLE001  (any failure is the sender's fault here)
            return self._refuse(token, 400, f"cannot decrypt: {type(exc).__name__} {exc}")
        with self._lock:
            self.received.append(Received(token, payload, headers, time.time()))
        return self._answer(token, 201, {"Location": f"{self.origin}/message/{secrets.token_hex(8)}"})

    def _check_vapid(self, authorization: str) -> str:
        if not authorization.startswith("vapid "):
            return "missing vapid authorization"
        params = dict(part.strip().split("=", 1) for part in authorization[6:].split(",") if "=" in part)
        token, key = params.get("t", ""), params.get("k", "")
        if key != self.app_public_key:
            return "k is not the application's public key"
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
            claims = jwt.decode(token, public, algorithms=["ES256"], audience=self.origin, options={"require": ["exp", "aud", "sub"]})
        except (ValueError, jwt.PyJWTError) as exc:
            return f"bad token: {type(exc).__name__} {exc}"
        if claims["exp"] > time.time() + 24 * 3600:
            return "exp more than 24 h ahead"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            return "sub must be mailto: or https:"
        return ""

    def _refuse(self, token: str, status: int, reason: str) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.refused.append(Refused(token, status, reason))
        return self._answer(token, status, {})

    def _answer(self, token: str, status: int, extra: dict[str, str]) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.answered.append((token, status))
        return status, extra

    def _handler_class(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real push service

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra = service._handle(self.path, headers, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # quiet
                pass

        return Handler
