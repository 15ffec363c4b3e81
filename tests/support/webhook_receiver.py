"""A webhook receiver as an ERP would write one: an HTTP server on 127.0.0.1 that checks
every delivery the way the README tells receivers to, and records what it accepted.

It refuses (401) a bad signature or a timestamp older than 5 minutes, answers a delivery
id it already has with 200 without recording it again (deliveries are at least once),
and can be "down" (503) to play an outage.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE = 300  # seconds


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> str | None:
    """None when the delivery is authentic and fresh; the reason otherwise (the README's recipe)."""
    timestamp = headers.get("facteur-timestamp", "")
    signature = headers.get("facteur-signature", "")
    if not timestamp.isdigit():
        return "timestamp manquant"
    if abs((now if now is not None else time.time()) - int(timestamp)) > TOLERANCE:
        return "timestamp trop ancien"
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "signature invalide"
    return None


@dataclass
class Received:
    delivery_id: str
    event: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float = 0.0  # time.monotonic()


@dataclass
class Receiver:
    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret (one path per webhook)
    down: bool = False
    refuse_with: int | None = None  # answer this status to everything (e.g. 400)
    retry_after: str | None = None
    received: list[Received] = field(default_factory=list)
    duplicates: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def seen(self, path_or_none: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path_or_none is None or r.headers.get(":path") == path_or_none]

    def statuses(self, invoice_id: int, path: str, event: str = "invoice.status_changed") -> list[str]:
        return [r.body["invoice"]["status"] for r in self.seen(path) if r.event == event and r.body["invoice"]["id"] == invoice_id]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.calls += 1
            if self.down:
                extra = {"Retry-After": self.retry_after} if self.retry_after else {}
                return 503, extra, b"maintenance"
            if self.refuse_with is not None:
                return self.refuse_with, {}, b"refus"
            secret = self.secrets.get(path)
            if secret is None:
                return 404, {}, b"inconnu"
            reason = verify(secret, headers, body)
            if reason is not None:
                self.refused.append((401, reason))
                return 401, {}, reason.encode()
            payload = json.loads(body)
            if payload["id"] != headers.get("facteur-delivery"):
                self.refused.append((400, "id"))
                return 400, {}, b"id"
            if any(r.delivery_id == payload["id"] for r in self.received):
                self.duplicates += 1  # remembered delivery id: a replay or a retry, not a new event
                return 200, {}, b"deja recu"
            self.received.append(Received(payload["id"], payload["event"], payload, {**headers, ":path": path}, time.monotonic()))
            return 200, {}, b"ok"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, answer = receiver.handle(self.path, headers, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
