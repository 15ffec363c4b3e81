"""Server time of the supplier's workspace on the seeded database (see seed.py).

    .venv/bin/python bench/dashboard/measure.py --database-url postgresql://postgres@127.0.0.1:5432/dashbench

Calls the real service functions the pages call (backend.invoices.workspace), with the
engine set up as the app sets it up (asyncpg connection pool): the first page of
Factures, filtered pages, a deep keyset page (the cursor of the 50,000th row), the filter's
choices (counterparts), the synthèse of the Accueil, and the agent's counts of what waits.
Each case: warm-up runs, then N timed runs; p50/p95/max in milliseconds. Optionally
prints EXPLAIN ANALYZE of each SQL statement (--explain).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

MEASURED_SIRET = "90000000000001"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run(database_url: str, runs: int, explain: bool) -> None:
    os.environ["FACTEUR_DATABASE_URL"] = database_url
    os.environ.setdefault("FACTEUR_DATA_DIR", "/tmp/dashbench-data")
    from backend.lib import db
    from backend.directory.tables import Structure
    from backend.invoices import workspace
    from backend.invoices.tables import Invoice
    from backend.invoices.workspace import SUPPLIER, RECIPIENT, Cursor, Filters

    await db.start_pool()
    supplier = await Structure.objects().get(Structure.siret == MEASURED_SIRET)
    sid = supplier.id
    count = await Invoice.count().where(Invoice.supplier == sid)
    total = await Invoice.count()
    deep = (await Invoice.raw("SELECT issue_date, id FROM invoice WHERE supplier = {} ORDER BY issue_date DESC, id DESC "
                              "OFFSET {} LIMIT 1", sid, min(50_000, count // 2)))[0]
    party = (await Invoice.raw("SELECT recipient FROM invoice WHERE supplier = {} GROUP BY recipient ORDER BY count(*) DESC LIMIT 1", sid))[0]["recipient"]
    party_name, party_siret = (await Invoice.raw("SELECT name, siret FROM structure WHERE id = {}", party))[0].values()
    busy_recipient = (await Invoice.raw("SELECT recipient FROM invoice GROUP BY recipient ORDER BY count(*) DESC LIMIT 1"))[0]["recipient"]
    cases = {
        "liste, 1re page": lambda: workspace.list_page(SUPPLIER, sid, Filters()),
        "liste, statut SUSPENDUE": lambda: workspace.list_page(SUPPLIER, sid, Filters(status="SUSPENDUE")),
        "liste, groupe « à traiter »": lambda: workspace.list_page(SUPPLIER, sid, Filters(status="a_traiter")),
        "liste, destinataire + dates + montant": lambda: workspace.list_page(SUPPLIER, sid, Filters(
            party=party, date_from=date(2025, 1, 1), date_to=date(2025, 12, 31), amount_min=workspace.Decimal("100"))),
        "liste, recherche n° « 00123 »": lambda: workspace.list_page(SUPPLIER, sid, Filters(q="00123")),
        "liste, page profonde (après 50 000 lignes)": lambda: workspace.list_page(SUPPLIER, sid, Filters(after=Cursor(deep["issue_date"], deep["id"]))),
        "liste, page profonde filtrée MISE_EN_PAIEMENT": lambda: workspace.list_page(SUPPLIER, sid, Filters(status="MISE_EN_PAIEMENT", after=Cursor(deep["issue_date"], deep["id"]))),
        "choix des destinataires (filtre)": lambda: workspace.counterparts(SUPPLIER, sid),
        "synthèse fournisseur (Accueil)": lambda: workspace.supplier_summary(sid),
        "Accueil fournisseur complet (synthèse + 5 à traiter)": lambda: _home(sid),
        "agent : ce qui attend (Accueil)": lambda: workspace.recipient_summary(busy_recipient),
        "agent : Factures reçues, 1re page": lambda: workspace.list_page(RECIPIENT, busy_recipient, Filters()),
        # Search by the other side's registered name or SIRET (resolved through structure's indexes first).
        "recherche : nom du destinataire": lambda: workspace.list_page(SUPPLIER, sid, Filters(q=party_name)),
        "recherche : SIRET du destinataire": lambda: workspace.list_page(SUPPLIER, sid, Filters(q=party_siret)),
        "recherche : mot sans résultat": lambda: workspace.list_page(SUPPLIER, sid, Filters(q="introuvable")),
        "agent : recherche nom du fournisseur": lambda: workspace.list_page(RECIPIENT, busy_recipient, Filters(q="Entreprise mesurée")),
        "agent : recherche date de paiement": lambda: workspace.list_page(RECIPIENT, busy_recipient, Filters(q="15/04/2025")),
    }
    print(f"# {total:,} factures, dont {count:,} pour le fournisseur mesuré (id {sid}) ; {runs} mesures par cas\n")
    print("| cas | p50 ms | p95 ms | max ms | lignes |")
    print("|---|---:|---:|---:|---:|")
    for name, call in cases.items():
        for _ in range(5):
            await call()
        times = []
        result = None
        for _ in range(runs):
            start = time.perf_counter()
            result = await call()
            times.append((time.perf_counter() - start) * 1000)
        rows = len(result.rows) if hasattr(result, "rows") else (len(result) if isinstance(result, list) else "—")
        print(f"| {name} | {statistics.median(times):.1f} | {_pct(times, 95):.1f} | {max(times):.1f} | {rows} |")
    if explain:
        await _explain(sid, deep)
        await _explain_search(sid, party_name)
    await db.close_pool()
    print(f"\nmachine : {platform.node()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}")


async def _home(sid: int):
    # What home.summary_context does, less the messages' unread badges (another domain).
    from backend.invoices import workspace

    summary = await workspace.supplier_summary(sid)
    rows = await workspace.list_page(workspace.SUPPLIER, sid, workspace.Filters(status="a_traiter"), page_size=5)
    return summary, rows


async def _explain(sid: int, deep: dict) -> None:
    from backend.invoices.tables import Invoice
    from backend.invoices import workspace
    from backend.invoices.workspace import SUPPLIER, Cursor, Filters

    queries = {
        "first page": workspace.filtered(Invoice.select(*workspace.COLUMNS), SUPPLIER, sid, Filters()),
        "status": workspace.filtered(Invoice.select(*workspace.COLUMNS), SUPPLIER, sid, Filters(status="SUSPENDUE")),
    }
    for name, query in queries.items():
        sql = str(query.order_by(Invoice.issue_date, Invoice.id, ascending=False).limit(26))
        plan = await Invoice.raw("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        print(f"\n## EXPLAIN {name}\n```\n" + "\n".join(r["QUERY PLAN"] for r in plan) + "\n```")
    deep_sql = (f"SELECT id FROM invoice WHERE supplier = {sid} AND (issue_date, id) < ('{deep['issue_date']}', {deep['id']}) "
                "ORDER BY issue_date DESC, id DESC LIMIT 26")
    for name, sql in {"deep page": deep_sql,
                      "synthèse sans compteurs (pour comparaison)": f"SELECT status, COUNT(*), SUM(total_incl_vat) FROM invoice WHERE supplier = {sid} GROUP BY status",
        "synthèse : compteurs": f"SELECT status, n, cents FROM invoice_count WHERE structure = {sid} AND side = 'supplier'",
        "synthèse : destinataires muets": "SELECT s.id, s.name, t.n FROM (SELECT recipient, COUNT(*) AS n FROM invoice "
            f"WHERE supplier = {sid} AND status IN ('SERVICE_FAIT', 'MANDATEE') GROUP BY recipient) t "
            "JOIN structure s ON s.id = t.recipient WHERE s.reports_payment = false ORDER BY t.n DESC, s.name LIMIT 5"}.items():
        plan = await Invoice.raw("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        print(f"\n## EXPLAIN {name}\n```\n" + "\n".join(r["QUERY PLAN"] for r in plan) + "\n```")


async def _explain_search(sid: int, q: str) -> None:
    """The plan of a search by the recipient's registered name (ids resolved first)."""
    from backend.invoices import workspace
    from backend.invoices.tables import Invoice

    search = await workspace.resolve_search(workspace.SUPPLIER, sid, q)
    query = workspace.filtered(Invoice.select(*workspace.COLUMNS), workspace.SUPPLIER, sid, workspace.Filters(q=q), search)
    sql = str(query.order_by(Invoice.issue_date, Invoice.id, ascending=False).limit(26))
    plan = await Invoice.raw("EXPLAIN (ANALYZE, BUFFERS) " + sql)
    print(f"\n## EXPLAIN search « {q} » ({len(search.parties)} destinataire(s) trouvé(s))\n```\n"
          + "\n".join(r["QUERY PLAN"] for r in plan) + "\n```")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/dashbench")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.runs, args.explain))


if __name__ == "__main__":
    main()
