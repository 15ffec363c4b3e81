"""The virtual users of the load bench and what they record (used by bench/load/run.py).

Closed loop: each virtual user has its own connection (httpx client, keep-alive, a timeout
on every request), does one request, thinks (uniform 0.5–1.5 × its mean think time),
and again, until the end. Each request is one *kind* (`page:home`, `api:deposit`…); the
recorder keeps, per kind, the latencies of the requests that *started* after the warm-up,
and every outcome that is not the expected status (by status code or exception name).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field

import httpx

TIMEOUT = httpx.Timeout(30.0)
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
OK_GET, OK_FORM, OK_CREATED = (200,), (302, 303), (201,)


@dataclass
class Recorder:
    warmup_end: float  # time.monotonic() after which requests count
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    warmup_requests: int = 0

    def record(self, kind: str, started: float, elapsed: float, error: str | None) -> None:
        if started < self.warmup_end:
            self.warmup_requests += 1
            return
        self.latencies[kind].append(elapsed)
        if error:
            self.errors[kind][error] += 1


@dataclass
class Shared:
    """What the users of one run share: the seeded ids, the invoices left to process, the files to deposit."""

    seeded: object  # bench/load/seed.Seeded
    deposit_files: deque
    waiting: deque = field(default_factory=deque)  # MISE_A_DISPOSITION, for PRISE_EN_CHARGE
    taken: deque = field(default_factory=deque)  # PRISE_EN_CHARGE, for SERVICE_FAIT (API)
    exhausted: Counter = field(default_factory=Counter)  # a user found nothing left to do


async def hit(client: httpx.AsyncClient, recorder: Recorder, kind: str, method: str, url: str,
              expected: tuple[int, ...] = OK_GET, **kwargs) -> httpx.Response | None:
    started = time.monotonic()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        recorder.record(kind, started, time.monotonic() - started, type(exc).__name__)
        return None
    recorder.record(kind, started, time.monotonic() - started,
                    None if response.status_code in expected else f"HTTP {response.status_code}")
    return response


async def log_in(base: str, email: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=TIMEOUT)
    page = await client.get("/login")
    token = CSRF.search(page.text).group(1)
    response = await client.post("/login", data={"email": email, "password": password, "_csrf_token": token})
    if response.status_code not in (200, 302, 303):
        raise RuntimeError(f"login {email}: HTTP {response.status_code}")
    return client


async def csrf_token(client: httpx.AsyncClient, url: str) -> str:
    """One token per session serves every form of that session."""
    return CSRF.search((await client.get(url)).text).group(1)


def cookie_header(client: httpx.AsyncClient) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


async def _think(mean: float) -> None:
    await asyncio.sleep(mean * random.uniform(0.5, 1.5))


async def supplier_web(client: httpx.AsyncClient, rec: Recorder, shared: Shared, think: float) -> None:
    """A supplier on the site: synthèse, lists, invoice pages, the fragments htmx refreshes."""
    ids = shared.seeded.supplier_invoice_ids
    actions = [
        (3, "page:home (synthèse)", lambda: "/"),
        (2, "fragment:summary", lambda: "/home/summary"),
        (3, "page:invoices (supplier)", lambda: "/invoices"),
        (1, "page:invoices filtered", lambda: "/invoices?status=MISE_A_DISPOSITION"),
        (3, "page:invoice", lambda: f"/invoices/{random.choice(ids)}"),
        (1, "page:deposits", lambda: "/deposits"),
        (1, "fragment:counters", lambda: "/invoices/counters"),
        (1, "fragment:badge", lambda: "/notifications/badge"),
    ]
    weights = [a[0] for a in actions]
    while True:
        _, kind, url = random.choices(actions, weights)[0]
        await hit(client, rec, kind, "GET", url())
        await _think(think)


async def agent_web(client: httpx.AsyncClient, rec: Recorder, shared: Shared, think: float) -> None:
    """An agent of the public structure: received list, invoice pages, taking invoices in charge (form + CSRF)."""
    ids = shared.seeded.received_invoice_ids
    token = await csrf_token(client, f"/invoices/{ids[0]}")
    while True:
        roll = random.random()
        if roll < 0.25:
            await _take_in_charge(client, rec, shared, token)
        elif roll < 0.45:
            await hit(client, rec, "page:home (agent)", "GET", "/")
        elif roll < 0.70:
            await hit(client, rec, "page:received list", "GET", "/invoices")
        elif roll < 0.80:
            await hit(client, rec, "page:received list filtered", "GET", "/invoices?status=MISE_A_DISPOSITION")
        else:
            await hit(client, rec, "page:invoice (agent)", "GET", f"/invoices/{random.choice(ids)}")
        await _think(think)


async def _take_in_charge(client: httpx.AsyncClient, rec: Recorder, shared: Shared, token: str) -> None:
    if not shared.waiting:
        shared.exhausted["form:status"] += 1
        return
    invoice_id = shared.waiting.popleft()
    response = await hit(client, rec, "form:status PRISE_EN_CHARGE", "POST", f"/invoices/{invoice_id}/status",
                         OK_FORM, data={"target": "PRISE_EN_CHARGE", "_csrf_token": token})
    if response is not None and response.status_code in OK_FORM:
        shared.taken.append(invoice_id)


async def api_reader(client: httpx.AsyncClient, rec: Recorder, shared: Shared, think: float, supplier_key: str,
                     agent_key: str) -> None:
    """An ERP reading: its invoices, one invoice, the received list, the directory."""
    seeded = shared.seeded
    as_supplier, as_agent = {"Authorization": f"Bearer {supplier_key}"}, {"Authorization": f"Bearer {agent_key}"}
    actions = [
        (3, "api:GET invoices", lambda: ("/api/v1/invoices", as_supplier)),
        (3, "api:GET invoice", lambda: (f"/api/v1/invoices/{random.choice(seeded.supplier_invoice_ids)}", as_supplier)),
        (3, "api:GET received", lambda: ("/api/v1/received", as_agent)),
        (2, "api:GET received invoice", lambda: (f"/api/v1/received/{random.choice(seeded.received_invoice_ids)}", as_agent)),
        (1, "api:GET structure", lambda: (f"/api/v1/structures/{seeded.recipient_siret}", as_supplier)),
    ]
    weights = [a[0] for a in actions]
    while True:
        _, kind, target = random.choices(actions, weights)[0]
        url, headers = target()
        await hit(client, rec, kind, "GET", url, headers=headers)
        await _think(think)


async def api_processor(client: httpx.AsyncClient, rec: Recorder, shared: Shared, think: float, agent_key: str) -> None:
    """A public structure's software certifying service done on what the agents took in charge."""
    headers = {"Authorization": f"Bearer {agent_key}"}
    while True:
        if shared.taken:
            invoice_id = shared.taken.popleft()
            await hit(client, rec, "api:POST status SERVICE_FAIT", "POST", f"/api/v1/received/{invoice_id}/status",
                      OK_GET, json={"status": "SERVICE_FAIT"}, headers=headers)
        else:
            shared.exhausted["api:status"] += 1
        await _think(think)


async def api_depositor(client: httpx.AsyncClient, rec: Recorder, shared: Shared, think: float, supplier_key: str) -> None:
    headers = {"Authorization": f"Bearer {supplier_key}"}
    while shared.deposit_files:
        data = shared.deposit_files.popleft()
        await hit(client, rec, "api:POST deposit", "POST", "/api/v1/deposits", OK_CREATED,
                  files=[("file", ("facture.pdf", data, "application/pdf"))], headers=headers)
        await _think(think)
    shared.exhausted["api:deposit"] += 1


async def web_depositor(client: httpx.AsyncClient, rec: Recorder, shared: Shared, think: float) -> None:
    token = await csrf_token(client, "/deposits")
    while shared.deposit_files:
        data = shared.deposit_files.popleft()
        await hit(client, rec, "form:deposit", "POST", "/deposits", OK_CREATED,
                  files=[("file", ("facture.pdf", data, "application/pdf"))], headers={"X-CSRFToken": token})
        await _think(think)
    shared.exhausted["form:deposit"] += 1
