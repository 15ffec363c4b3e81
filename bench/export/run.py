"""Export benchmark: time and peak memory of a real server exporting 10,000 and 100,000 invoices.

    .venv/bin/python bench/export/run.py                    # SQLite, in a fresh folder under /tmp
    .venv/bin/python bench/export/run.py --database-url postgresql://postgres@127.0.0.1:5432/exportbench

Seeds one database (the application's migrations, so the real indexes and counter
triggers) with two suppliers: "small" with SMALL invoices, "large" with LARGE, each with
the history an export reads (deposit, availability, and for part of them a mandate and
a payment). Then, for each supplier and format, starts `facteur serve` afresh, logs in,
opens the list once (warm-up), and downloads « Exporter » through HTTP, reading the body
as it comes. Measured: time to the first byte, total time, size, rows (CSV), and the
server process's RSS before the export and its peak during it (VmHWM, reset just before
through /proc/PID/clear_refs; Linux). Peak memory
must not grow with the number of rows: the export is streamed in keyset batches.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SMALL, LARGE = 10_000, 100_000
PASSWORD = "mot-de-passe-du-banc"
SECRET = "bench-export-secret-key-0123456789abcdef"


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    env |= {"FACTEUR_DATA_DIR": str(data_dir), "FACTEUR_SECRET_KEY": SECRET, "FACTEUR_OUTBOX_WORKER": "0",
            "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["FACTEUR_DATABASE_URL"] = database_url
    return env


# --- seeding (in a child process: the engine is chosen at import from the environment) -----------

SEED = r'''
import asyncio, sys
from backend.lib import db
from backend.lib.common import fold, utcnow
from backend.accounts import passwords
from backend.accounts.tables import Membership, User
from backend.directory.tables import Structure
from backend.invoices.tables import Invoice, StoredFile

PASSWORD, SMALL, LARGE = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


async def structure(n, name, public):
    siret = f"{90000000000000 + n:014d}"
    row = Structure(siret=siret, siren=siret[:9], name=name, search_key=fold(name), is_public=public, active=True)
    await row.save()
    return row


CHUNK = 5000


async def insert_invoices(supplier, recipient, file, who, low, high, pg):
    json = "CAST({} AS JSON)" if pg else "{}"  # a parameter: braces in the SQL are Piccolo's markers
    day = "DATE '2024-01-01' + (i % 1000)" if pg else "date('2024-01-01', '+' || (i % 1000) || ' days')"
    status = "CASE i % 4 WHEN 0 THEN 'MISE_EN_PAIEMENT' WHEN 1 THEN 'MANDATEE' WHEN 2 THEN 'SUSPENDUE' ELSE 'MISE_A_DISPOSITION' END"
    code = "CASE i % 4 WHEN 0 THEN '211' WHEN 1 THEN '205' WHEN 2 THEN '208' ELSE '203' END"
    ht = "CAST((i % 500000) + 1 AS NUMERIC) / 100" if pg else "ROUND(((i % 500000) + 1) / 100.0, 2)"
    await Invoice.raw(
        f"INSERT INTO invoice (supplier, recipient, original_file, original_name, format, profile, number, number_year, "
        f"type_code, issue_date, currency, service_code, engagement, billing_framework, seller_siret, buyer_siret, "
        f"seller_name, buyer_name, total_excl_vat, total_vat, total_incl_vat, amount_due, data, status, status_code, "
        f"version, certificate_number, deposited_at, updated_at) "
        f"WITH RECURSIVE n(i) AS (SELECT {low} UNION ALL SELECT i + 1 FROM n WHERE i < {high}) "
        f"SELECT {supplier.id}, {recipient.id}, {file.id}, 'f.pdf', 'facturx-pdf', 'EN16931', '{who}-' || i, 2024, "
        f"'380', {day}, 'EUR', 'SERVICE-' || (i % 7), 'EJ-' || i, 'A1', '{supplier.siret}', '{recipient.siret}', "
        f"'{supplier.name}', '{recipient.name}', {ht}, 0, {ht}, {ht}, {json}, {status}, {code}, 1, "
        f"'AD-{who}-' || i, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM n", "{}")


async def main():
    await db.run_migrations()
    pg = db.engine().engine_type == "postgres"
    if pg:
        await Invoice.raw("TRUNCATE structure, app_user, stored_file RESTART IDENTITY CASCADE")
    recipient = await structure(1, "Commune de Banc", True)
    file = StoredFile(sha256="0" * 64, size=1, media_type="application/pdf")
    await file.save()
    for n, (who, count) in enumerate((("small", SMALL), ("large", LARGE)), start=2):
        supplier = await structure(n, f"Entreprise {who}", False)
        user = User(email=f"{who}@banc.fr", password_hash=await passwords.hash_password(PASSWORD), first_name="Banc",
                    last_name=who, email_confirmed_at=utcnow())
        await user.save()
        await Membership.insert(Membership(user=user.id, structure=supplier.id, status="active", can_consult=True))
        json = "CAST({} AS JSON)" if pg else "{}"
        for low in range(1, count + 1, CHUNK):  # a transaction each: PostgreSQL updates the counter row per invoice
            await insert_invoices(supplier, recipient, file, who, low, min(low + CHUNK - 1, count), pg)
        mandate = ("CAST(CAST({} AS TEXT) || id || CAST({} AS TEXT) AS JSON)" if pg else "{} || id || {}",
                   '{"mandate_number": "M-', '"}')
        for step, code2, kind, where, info in (
                ("DEPOSEE", "200", "supplier", "", (json, "{}")),
                ("MISE_A_DISPOSITION", "203", "platform", "", (json, "{}")),
                ("MANDATEE", "205", "recipient", "AND status IN ('MANDATEE', 'MISE_EN_PAIEMENT')", mandate),
                ("MISE_EN_PAIEMENT", "211", "recipient", "AND status = 'MISE_EN_PAIEMENT'",
                 (json, '{"payment": {"date": "2024-06-01", "amount": "1.00"}}'))):
            await Invoice.raw(
                f"INSERT INTO invoice_history (invoice, status, status_code, actor_kind, reason_code, comment, details, created_at) "
                f"SELECT id, '{step}', '{code2}', '{kind}', '', '', {info[0]}, CURRENT_TIMESTAMP FROM invoice "
                f"WHERE supplier = {supplier.id} {where}", *info[1:])
        print(who, await Invoice.count().where(Invoice.supplier == supplier.id), "invoices", flush=True)


asyncio.run(main())
'''


def seed(env: dict[str, str], small: int, large: int) -> None:
    subprocess.run([sys.executable, "-c", SEED, PASSWORD, str(small), str(large)], cwd=ROOT, env=env, check=True)


# --- one measured server ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"^{k}:\s+(\d+) kB", text, re.M).group(1)) for k in ("VmRSS", "VmHWM")}


def measure(env: dict[str, str], who: str, fmt: str, log: Path) -> dict:
    import httpx

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        server = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  cwd=ROOT, env=env | {"FACTEUR_BASE_URL": base}, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"server did not start, see {log}")
                time.sleep(0.3)
        with httpx.Client(base_url=base, timeout=600) as client:
            page = client.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            client.post("/login", data={"email": f"{who}@banc.fr", "password": PASSWORD, "_csrf_token": token})
            assert client.get("/invoices").status_code == 200  # warm-up: the list page once
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # peak RSS := current RSS (Linux)
            before = _memory(server.pid)
            started = time.perf_counter()
            first = None
            size = lines = chunks = 0
            with client.stream("GET", f"/invoices/export?format={fmt}") as response:
                assert response.status_code == 200, response.status_code
                for chunk in response.iter_raw():
                    first = first or time.perf_counter()
                    size += len(chunk)
                    lines += chunk.count(b"\n")  # a "\r\n" may straddle two chunks
                    chunks += 1
            total = time.perf_counter() - started
        after = _memory(server.pid)
        return {"who": who, "format": fmt, "first_byte_s": first - started, "total_s": total, "bytes": size,
                "rows": lines - 1 if fmt == "csv" else None, "chunks": chunks,
                "rss_before_mib": before["VmRSS"] / 1024, "peak_mib": after["VmHWM"] / 1024}
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL (its name must end in « bench »); SQLite when absent")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--small", type=int, default=SMALL)
    parser.add_argument("--large", type=int, default=LARGE)
    args = parser.parse_args()
    if args.database_url and not args.database_url.rstrip("/").endswith("bench"):
        raise SystemExit("Refus : la base de mesure doit avoir un nom qui finit par « bench » (ses tables sont vidées).")
    data_dir = Path(tempfile.mkdtemp(prefix="exportbench-"))
    env = _env(args.database_url, data_dir)
    started = time.perf_counter()
    seed(env, args.small, args.large)
    print(f"seeded in {time.perf_counter() - started:.0f} s ({'PostgreSQL' if args.database_url else 'SQLite'})", flush=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}")
    print("| invoices | format | first byte s | total s | MB | rows | chunks | RSS before MiB | peak RSS MiB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for who, count in (("small", args.small), ("large", args.large)):
        for fmt in args.formats.split(","):
            r = measure(env, who, fmt, data_dir / "server.log")
            print(f"| {count:,} | {fmt} | {r['first_byte_s']:.2f} | {r['total_s']:.1f} | {r['bytes'] / 1e6:.1f} | "
                  f"{r['rows'] if r['rows'] is not None else '—'} | {r['chunks']} | {r['rss_before_mib']:.0f} | "
                  f"{r['peak_mib']:.0f} |", flush=True)
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
