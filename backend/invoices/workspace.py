"""The two workspaces: a supplier's invoices (tableau de bord, synthèse) and an agent's received ones.

One listing serves both sides: the side says which column holds the active structure
(`supplier` for a company, `recipient` for a public structure). Pages are keyset pages
ordered by (issue_date, id) descending, so a deep page costs what the first one does; the
composite indexes of migration `invoices_workspace_indexes` serve every filter combination
that starts with the structure (and its status, or its counterpart).

Filters come from the query string and are parsed leniently: a value that cannot be read
is dropped and reported in French, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from piccolo.columns.combination import WhereRaw

from backend.lib.common import fold, paris_today, parse_id
from backend.lib.db import engine
from backend.directory.tables import Structure
from backend.invoices.statuses import BEFORE_RECEPTION, STATUSES, label
from backend.invoices.tables import Invoice, InvoiceCount
from backend.processing import payment_delays

SUPPLIER, RECIPIENT = "supplier", "recipient"
PAGE_SIZE = 25
MAX_Q = 100

# seller_name and buyer_name are the names written in the file; the lists show the
# registered names (the structures' rows, read for the page's rows only: a join in the list
# query would change PostgreSQL's plan for searches) and the file's only when it differs.
COLUMNS = (Invoice.id, Invoice.number, Invoice.type_code, Invoice.status, Invoice.status_code, Invoice.seller_name,
           Invoice.seller_siret, Invoice.buyer_name, Invoice.service_code, Invoice.total_incl_vat, Invoice.currency,
           Invoice.issue_date, Invoice.supplier, Invoice.recipient, Invoice.version, Invoice.payment_due_by,
           Invoice.paid_in_full_on, Invoice.payment_clock_stopped)

# "En retard": a chip and a synthèse count on both sides. Not paid in full, the last day to pay
# gone, the clock running (not interrupted, not rejected): a range of the (side, payment_due_by)
# indexes of migration invoices_payment_due_indexes, among the unpaid invoices only.
LATE = "en_retard"
LATE_TITLE = "En retard"
LATE_SQL = ("invoice.paid_in_full_on IS NULL AND invoice.payment_due_by IS NOT NULL AND invoice.payment_due_by < {} "
            "AND NOT invoice.payment_clock_stopped AND invoice.status <> 'REJETEE'")

# A rejection the supplier has not acknowledged yet: no supplier row at REJETEE in the history.
UNACKNOWLEDGED = ("NOT EXISTS (SELECT 1 FROM invoice_history h WHERE h.invoice = invoice.id "
                  "AND h.status = 'REJETEE' AND h.actor_kind = 'supplier')")


@dataclass(frozen=True)
class Group:
    """A named set of statuses, shown as a filter chip and as a line of the synthèse."""

    key: str
    title: str
    statuses: tuple[str, ...]
    unacknowledged_rejections: bool = False  # REJETEE counts only until the supplier acknowledges it


# Supplier side. "À traiter": the supplier must act (answer a suspension, correct the routing,
# take note of a rejection). "En cours": with the recipient. "Payées": payment sent.
SUPPLIER_GROUPS = (
    Group("a_traiter", "À traiter", ("SUSPENDUE", "A_RECYCLER", "REJETEE"), unacknowledged_rejections=True),
    Group("en_cours", "En cours", ("DEPOSEE", "MISE_A_DISPOSITION", "PRISE_EN_CHARGE", "COMPLETEE", "SERVICE_FAIT", "MANDATEE",
                                   "A_VALIDER_1", "A_VALIDER_2")),  # A9/A12: with the titulaire or mandataire first
    Group("payees", "Payées", ("MISE_EN_PAIEMENT", "ENCAISSEE")),
)
# Recipient side. "À traiter" (waiting for the agent's structure): every status from which
# the recipient holds the next step. SUSPENDUE and A_RECYCLER wait for the supplier;
# REJETEE and MISE_EN_PAIEMENT are done (a further partial payment stays possible).
RECIPIENT_WAITING = ("MISE_A_DISPOSITION", "COMPLETEE", "PRISE_EN_CHARGE", "SERVICE_FAIT", "MANDATEE")
WAITING_TITLES = {
    "MISE_A_DISPOSITION": "Nouvelles", "COMPLETEE": "Complétées par le fournisseur", "PRISE_EN_CHARGE": "En traitement",
    "SERVICE_FAIT": "À mandater", "MANDATEE": "À mettre en paiement",
}
RECIPIENT_GROUPS = (
    Group("a_traiter", "À traiter", RECIPIENT_WAITING),
    Group("chez_fournisseur", "Chez le fournisseur", ("SUSPENDUE", "A_RECYCLER")),
    Group("terminees", "Terminées", ("REJETEE", "MISE_EN_PAIEMENT", "ENCAISSEE")),
)


def groups(side: str) -> tuple[Group, ...]:
    return SUPPLIER_GROUPS if side == SUPPLIER else RECIPIENT_GROUPS


def side_of(structure: dict) -> str:
    """A public structure receives invoices; any other structure sends them."""
    return RECIPIENT if structure.get("is_public") else SUPPLIER


@dataclass(frozen=True)
class Cursor:
    issue_date: date
    id: int

    def encode(self) -> str:
        return f"{self.issue_date.isoformat()}_{self.id}"

    @classmethod
    def decode(cls, raw: str) -> Cursor | None:
        day, _, ident = (raw or "").partition("_")
        try:
            issue_date = date.fromisoformat(day)
        except ValueError:
            return None
        row_id = parse_id(ident)  # a number too large for the database names no row
        return cls(issue_date, row_id) if row_id is not None else None


@dataclass(frozen=True)
class Filters:
    status: str = ""  # a status name or a group key
    service: str = ""
    party: int | None = None  # the counterpart structure: recipient (supplier side) or supplier
    date_from: date | None = None
    date_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    q: str = ""
    after: Cursor | None = None
    errors: tuple[str, ...] = field(default=(), compare=False)

    @property
    def active(self) -> bool:
        return any((self.status, self.service, self.party, self.date_from, self.date_to,
                    self.amount_min is not None, self.amount_max is not None, self.q))

    @property
    def advanced_count(self) -> int:
        """How many filters hide in the folded panel (the search and the chips stay visible)."""
        return sum(1 for v in (self.service, self.party, self.date_from, self.date_to) if v) + sum(
            1 for v in (self.amount_min, self.amount_max) if v is not None)

    def params(self, **overrides: Any) -> dict[str, str]:
        """The query-string form of these filters (without the cursor unless given)."""
        values = {
            "status": self.status, "service": self.service, "party": str(self.party or ""),
            "du": self.date_from.isoformat() if self.date_from else "", "au": self.date_to.isoformat() if self.date_to else "",
            "min": _plain(self.amount_min), "max": _plain(self.amount_max), "q": self.q,
        }
        values.update({k: ("" if v is None else str(v)) for k, v in overrides.items()})
        return {k: v for k, v in values.items() if v}

    def query(self, **overrides: Any) -> str:
        return urlencode(self.params(**overrides))


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _date(raw: str, name: str, errors: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"La date « {raw[:20]} » ({name}) n'est pas valide : elle est ignorée.")
        return None


def _amount(raw: str, name: str, errors: list[str]) -> Decimal | None:
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", ".").replace(" ", "").replace("\u202f", "").replace("€", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or abs(value) >= Decimal("1e15"):
        errors.append(f"Le montant « {raw[:20]} » ({name}) n'est pas valide : il est ignoré.")
        return None
    return value.quantize(Decimal("0.01"))


def parse_filters(params: Mapping[str, str], side: str) -> Filters:
    errors: list[str] = []
    status = (params.get("status") or "").strip()
    if status and status not in STATUSES and status != LATE and status not in {g.key for g in groups(side)}:
        errors.append("Ce statut n'existe pas : le filtre est ignoré.")
        status = ""
    party = parse_id(params.get("party"))  # not a number, or too large for the database: no filter
    date_from, date_to = _date(params.get("du", ""), "du", errors), _date(params.get("au", ""), "au", errors)
    amount_min, amount_max = _amount(params.get("min", ""), "minimum", errors), _amount(params.get("max", ""), "maximum", errors)
    after = Cursor.decode(params.get("after", "")) if params.get("after") else None
    return Filters(
        status=status, service=(params.get("service") or "").strip()[:100] if side == RECIPIENT else "",
        party=party, date_from=date_from, date_to=date_to, amount_min=amount_min, amount_max=amount_max,
        q=" ".join((params.get("q") or "").split())[:MAX_Q], after=after, errors=tuple(errors),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where_status(query, status: str, side: str):
    if status == LATE:
        return query.where(WhereRaw(LATE_SQL, _date_param(paris_today())))
    if status in STATUSES:
        return query.where(Invoice.status == status)
    group = next((g for g in groups(side) if g.key == status), None)
    if group is None:
        return query
    query = query.where(Invoice.status.is_in(list(group.statuses)))
    if group.unacknowledged_rejections:
        query = query.where(WhereRaw(f"(invoice.status <> 'REJETEE' OR {UNACKNOWLEDGED})"))
    return query


def filtered(query, side: str, structure_id: int, filters: Filters, search: Search | None = None):
    """`query` restricted to the structure's side and to the filters (not the cursor).

    A search (`filters.q`) must be resolved first (`await resolve_search(...)`): it finds
    the counterparts and payments it names through their own indexes.
    """
    own, other = _own_other(side)
    query = query.where(own == structure_id)
    if side == RECIPIENT:  # still with its validator: not received yet
        query = query.where(Invoice.status.not_in(list(BEFORE_RECEPTION)))
    if filters.party:
        query = query.where(other == filters.party)
    query = _where_status(query, filters.status, side)
    if filters.service:
        query = query.where(Invoice.service_code == filters.service)
    if filters.date_from:
        query = query.where(Invoice.issue_date >= filters.date_from)
    if filters.date_to:
        query = query.where(Invoice.issue_date <= filters.date_to)
    if filters.amount_min is not None:
        query = query.where(Invoice.total_incl_vat >= filters.amount_min)
    if filters.amount_max is not None:
        query = query.where(Invoice.total_incl_vat <= filters.amount_max)
    if filters.q:
        if search is None or search.q != filters.q:
            raise ValueError("resolve the search first: await resolve_search(side, structure_id, filters.q)")
        query = query.where(_search_clause(search, side))
    return query


def _own_other(side: str):
    return (Invoice.supplier, Invoice.recipient) if side == SUPPLIER else (Invoice.recipient, Invoice.supplier)


# --- search -----------------------------------------------------------------------------------
# A supplier finds its invoices by number, or by the recipient's registered name or SIRET; an
# agent by number, the supplier's registered name or SIRET, engagement number, mandate number
# or payment date. Names and SIRETs are looked up in `structure` first (SIRET B-tree; trigram
# index over the folded name: FTS5 on SQLite, pg_trgm on PostgreSQL), among the structure's
# counterparts only (EXISTS on the (own, other, …) list index); the list query then asks for
# `other IN (those ids)`. Payment dates come from `invoice_payment` (recipient, paid_on) and
# mandate numbers from `invoice.mandate_number`, both kept by triggers (migration
# invoices_search_references). Parts of numbers: ILIKE, served by trigram indexes on PostgreSQL.

MAX_WORDS = 8
MAX_PARTIES = 2000  # counterparts a name may match (a query as vague as "sa" on a huge hospital)
MAX_PAYMENTS = 5000  # invoices paid on one day that a search by date lists
_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


@dataclass(frozen=True)
class Search:
    """A search query, and what it names that only other tables' indexes can find."""

    q: str
    parties: tuple[int, ...] = ()  # counterparts whose registered name or SIRET matches
    paid_invoices: tuple[int, ...] = ()  # recipient side: invoices paid on the date typed


def payment_day(q: str) -> date | None:
    """15/04/2026, 15-04-2026, 15.04.2026 or 2026-04-15; None for anything else."""
    text = q.strip()
    try:
        if found := _DAY.fullmatch(text):
            return date(int(found[3]), int(found[2]), int(found[1]))
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _siret_prefix(q: str) -> str | None:
    compact = "".join(c for c in q if c not in " .\u00a0\u202f")
    return compact if compact.isdigit() and 9 <= len(compact) <= 14 else None


async def resolve_search(side: str, structure_id: int, q: str) -> Search:
    if not q:
        return Search(q)
    paid: tuple[int, ...] = ()
    day = payment_day(q) if side == RECIPIENT else None
    if day is not None:
        rows = await Invoice.raw(
            "SELECT DISTINCT invoice FROM invoice_payment WHERE recipient = {} AND paid_on = {} LIMIT {}",
            structure_id, _date_param(day), MAX_PAYMENTS)
        paid = tuple(r["invoice"] for r in rows)
    return Search(q, await _matching_parties(side, structure_id, q), paid)


async def _matching_parties(side: str, structure_id: int, q: str) -> tuple[int, ...]:
    """The counterparts of this structure whose registered SIRET starts with, or name holds, the query."""
    own, other = ("supplier", "recipient") if side == SUPPLIER else ("recipient", "supplier")
    theirs = f"EXISTS (SELECT 1 FROM invoice i WHERE i.{own} = {{}} AND i.{other} = s.id)"
    if digits := _siret_prefix(q):
        rows = await Invoice.raw(
            f"SELECT s.id FROM structure s WHERE s.siret >= {{}} AND s.siret <= {{}} AND {theirs} LIMIT {{}}",
            digits.ljust(14, "0"), digits.ljust(14, "9"), structure_id, MAX_PARTIES)
        return tuple(r["id"] for r in rows)
    words = [w for w in dict.fromkeys(fold(q).split()) if len(w) >= 2][:MAX_WORDS]  # "F-3" names nobody
    if not words:
        return ()
    likes = [f"%{_escape_like(w)}%" for w in words]
    checks = " AND ".join("(' ' || s.search_key) LIKE {} ESCAPE '\\'" for _ in words)
    indexed = [w for w in words if len(w) >= 3]
    if _is_sqlite() and indexed:  # the FTS5 trigram table of the directory search
        match = " AND ".join('"' + w.replace('"', '""') + '"' for w in indexed)
        sql = (f"SELECT s.id, s.name FROM structure s WHERE s.id IN (SELECT rowid FROM structure_fts "
               f"WHERE structure_fts MATCH {{}}) AND {checks} AND {theirs} LIMIT {{}}")
        rows = await Invoice.raw(sql, match, *likes, structure_id, MAX_PARTIES)
    else:
        sql = f"SELECT s.id, s.name FROM structure s WHERE {checks} AND {theirs} LIMIT {{}}"
        rows = await Invoice.raw(sql, *likes, structure_id, MAX_PARTIES)
    # The key also holds the postal code and city: only the name counts here.
    return tuple(r["id"] for r in rows if all(w in fold(r["name"]) for w in words))


def _search_clause(search: Search, side: str):
    like = "LIKE" if _is_sqlite() else "ILIKE"  # SQLite's LIKE ignores ASCII case already
    pattern = f"%{_escape_like(search.q)}%"
    columns = ["invoice.number"] + (["invoice.engagement", "invoice.mandate_number"] if side == RECIPIENT else [])
    clauses = [f"{column} {like} {{}} ESCAPE '\\'" for column in columns]
    values: list[Any] = [pattern] * len(columns)
    other = "invoice.recipient" if side == SUPPLIER else "invoice.supplier"
    for column, ids in ((other, search.parties), ("invoice.id", search.paid_invoices)):
        if ids:
            clauses.append(f"{column} IN ({', '.join('{}' for _ in ids)})")
            values += ids
    return WhereRaw(f"({' OR '.join(clauses)})", *values)


def _is_sqlite() -> bool:
    return engine().engine_type == "sqlite"


@dataclass
class Page:
    rows: list[dict]
    next_cursor: str | None


async def list_page(side: str, structure_id: int, filters: Filters, page_size: int = PAGE_SIZE,
                    columns: tuple = COLUMNS) -> Page:
    """One keyset page of the structure's invoices, newest issue date first.

    `columns`: what each row holds (the export reads more than the list shows).
    """
    search = await resolve_search(side, structure_id, filters.q)
    query = filtered(Invoice.select(*columns), side, structure_id, filters, search)
    if filters.after:
        # A row-value comparison: one index range on (…, issue_date, id), on both engines.
        query = query.where(WhereRaw("(invoice.issue_date, invoice.id) < ({}, {})",
                                     _date_param(filters.after.issue_date), filters.after.id))
    rows = await _custom_plan(query.order_by(Invoice.issue_date, Invoice.id, ascending=False).limit(page_size + 1),
                              filters.active)
    more = len(rows) > page_size
    rows = rows[:page_size]
    await _registered_names(rows)
    for found in rows:
        _decorate(found, side)
    return Page(rows, Cursor(rows[-1]["issue_date"], rows[-1]["id"]).encode() if more else None)


async def _custom_plan(query, filtered_list: bool) -> list[dict]:
    """Run the list query; a filtered one on PostgreSQL with a plan made for its own values.

    The driver prepares statements, and after five runs PostgreSQL may keep a generic plan
    that ignores the values: for a search pattern or a rare status it then reads the
    structure's invoices in list order and filters them (100 ms and more for 100,000),
    where the values' own plan takes the trigram, counterpart or status index (a few ms).
    Measured in bench/dashboard/RESULTS.md.
    """
    if not filtered_list or _is_sqlite():
        return await query
    async with engine().transaction():
        await Invoice.raw("SET LOCAL plan_cache_mode = force_custom_plan")
        return await query


async def _registered_names(rows: list[dict]) -> None:
    """`supplier_name` and `recipient_name` of each row: the structures' registered names."""
    if not rows or "supplier" not in rows[0] or "supplier_name" in rows[0]:
        return
    ids = {r["supplier"] for r in rows} | {r["recipient"] for r in rows}
    names = {s["id"]: s["name"] for s in await Structure.select(Structure.id, Structure.name).where(Structure.id.is_in(list(ids)))}
    for found in rows:
        found["supplier_name"], found["recipient_name"] = names.get(found["supplier"], ""), names.get(found["recipient"], "")


def _decorate(found: dict, side: str) -> None:
    """Dates as dates, the status's French label, and who is on the other side.

    `party_name` is the counterpart's registered name; `party_file_name` the name the file
    gives it, only when that differs (accents, case and spacing aside) — shown flagged.
    """
    found["issue_date"] = _as_date(found["issue_date"])
    found["status_label"] = label(found["status"])
    if "payment_due_by" in found:
        found["payment"] = payment_delays.state(found)
    if "seller_name" in found and "supplier_name" in found:
        registered, written = ((found["recipient_name"], found["buyer_name"]) if side == SUPPLIER
                               else (found["supplier_name"], found["seller_name"]))
        found["party_name"] = registered or written
        found["party_file_name"] = written if file_name_differs(written, registered) else ""


def file_name_differs(written: str, registered: str) -> bool:
    """Whether a name written in an invoice is not the structure's registered name."""
    return bool(written) and bool(registered) and fold(written) != fold(registered)


def _date_param(value: date):
    return value.isoformat() if _is_sqlite() else value  # SQLite stores ISO text


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


async def row(side: str, structure_id: int, invoice_id: int, filters: Filters | None = None) -> dict | None:
    """One row of the list (the live refresh of a row), or None outside the structure's side.

    With `filters`: None also when the invoice is not in that filtered list (a live new row
    is added only to the lists it belongs to).
    """
    filters = filters or Filters()
    search = await resolve_search(side, structure_id, filters.q)
    query = filtered(Invoice.select(*COLUMNS), side, structure_id, replace(filters, after=None), search)
    found = await query.where(Invoice.id == invoice_id).first()
    if found:
        await _registered_names([found])
        _decorate(found, side)
    return found


# --- counts and the synthèse ------------------------------------------------------------------

def _money_sum(column: str) -> str:
    # SQLite has no decimal type: summing cents as integers keeps the total exact.
    if _is_sqlite():
        return f"COALESCE(SUM(CAST(ROUND({column} * 100) AS INTEGER)), 0)"
    return f"COALESCE(SUM({column}) * 100, 0)"


def _cents(value) -> Decimal:
    return (Decimal(str(value or 0)) / 100).quantize(Decimal("0.01"))


async def status_totals(side: str, structure_id: int) -> dict[str, dict]:
    """Per status: number of invoices and their total incl. VAT, for one structure's side.

    Read from invoice_count, kept by triggers (migration invoices_counters): a few rows,
    however many invoices. Pseudo-status REJETEE_ACK: the rejections already acknowledged.
    """
    rows = await InvoiceCount.select(InvoiceCount.status, InvoiceCount.n, InvoiceCount.cents).where(
        (InvoiceCount.structure == structure_id) & (InvoiceCount.side == side) & (InvoiceCount.n != 0))
    return {r["status"]: {"count": r["n"], "amount": _cents(r["cents"])} for r in rows}


async def status_totals_slow(side: str, structure_id: int) -> dict[str, dict]:
    """The same figures aggregated from the invoices themselves (to check the counters)."""
    own = "supplier" if side == SUPPLIER else "recipient"
    rows = await Invoice.raw(
        f"SELECT status, COUNT(*) AS n, {_money_sum('total_incl_vat')} AS cents FROM invoice "
        f"WHERE {own} = {{}} GROUP BY status", structure_id)
    totals = {r["status"]: {"count": r["n"], "amount": _cents(r["cents"])} for r in rows}
    if side == SUPPLIER:
        ack = await Invoice.raw(
            f"SELECT COUNT(*) AS n, {_money_sum('total_incl_vat')} AS cents FROM invoice "
            f"WHERE supplier = {{}} AND status = 'REJETEE' AND NOT {UNACKNOWLEDGED}", structure_id)
        if ack[0]["n"]:
            totals["REJETEE_ACK"] = {"count": ack[0]["n"], "amount": _cents(ack[0]["cents"])}
    return totals


async def silent_recipients(structure_id: int, limit: int = 5) -> list[dict]:
    """Recipients that never report payment, with the supplier's accepted invoices there.

    Their invoices stop at SERVICE_FAIT or MANDATEE for good: the supplier must be told.
    Counted from the index (supplier, status, recipient) alone, without reading the rows.
    """
    rows = await Invoice.raw(
        "SELECT s.id, s.name, t.n FROM (SELECT recipient, COUNT(*) AS n FROM invoice "
        "WHERE supplier = {} AND status IN ('SERVICE_FAIT', 'MANDATEE') GROUP BY recipient) t "
        "JOIN structure s ON s.id = t.recipient WHERE s.reports_payment = {} ORDER BY t.n DESC, s.name LIMIT {}",
        structure_id, False, limit)
    return [{"id": r["id"], "name": r["name"], "count": r["n"]} for r in rows]


def _group_line(group: Group, totals: dict[str, dict], minus: dict | None = None) -> dict:
    count = sum(totals.get(s, {}).get("count", 0) for s in group.statuses)
    amount = sum((totals.get(s, {}).get("amount", Decimal(0)) for s in group.statuses), Decimal(0))
    if minus:
        count, amount = count - minus["count"], amount - minus["amount"]
    by_status = [(s, label(s), totals[s]["count"]) for s in group.statuses if totals.get(s, {}).get("count")]
    return {"key": group.key, "title": group.title, "count": count, "amount": amount, "by_status": by_status}


async def late_count(side: str, structure_id: int) -> int:
    """How many of the structure's invoices are late (the chip and the synthèse tile)."""
    own = "supplier" if side == SUPPLIER else "recipient"
    rows = await Invoice.raw(f"SELECT COUNT(*) AS n FROM invoice WHERE invoice.{own} = {{}} AND {LATE_SQL}",
                             structure_id, _date_param(paris_today()))
    return int(rows[0]["n"])


async def supplier_summary(structure_id: int) -> dict:
    """The supplier's Accueil: what needs action now, what is in progress, what is paid."""
    totals = await status_totals(SUPPLIER, structure_id)
    acknowledged = totals.pop("REJETEE_ACK", {"count": 0, "amount": Decimal(0)})
    lines = []
    for group in SUPPLIER_GROUPS:
        line = _group_line(group, totals, acknowledged if group.unacknowledged_rejections else None)
        if group.unacknowledged_rejections:
            line["by_status"] = [(s, t, n - acknowledged["count"] if s == "REJETEE" else n) for s, t, n in line["by_status"]]
            line["by_status"] = [item for item in line["by_status"] if item[2]]
        lines.append(line)
    silent = await silent_recipients(structure_id) if any(totals.get(s) for s in ("SERVICE_FAIT", "MANDATEE")) else []
    return {"groups": lines, "total": sum(t["count"] for t in totals.values()), "silent_recipients": silent,
            "late": await late_count(SUPPLIER, structure_id)}


async def recipient_summary(structure_id: int) -> dict:
    """The agent's Accueil and the chips of Factures reçues: what waits for the structure."""
    totals = await status_totals(RECIPIENT, structure_id)
    waiting = [{"status": s, "title": WAITING_TITLES[s], "count": totals.get(s, {}).get("count", 0),
                "amount": totals.get(s, {}).get("amount", Decimal(0))} for s in RECIPIENT_WAITING]
    return {"groups": [_group_line(g, totals) for g in RECIPIENT_GROUPS], "waiting": waiting,
            "waiting_total": sum(w["count"] for w in waiting), "total": sum(t["count"] for t in totals.values()),
            "late": await late_count(RECIPIENT, structure_id)}


async def counterparts(side: str, structure_id: int, limit: int = 200) -> list[dict]:
    """The structures on the other side of this structure's invoices (the filter's choices).

    A loose index scan (one index probe per distinct counterpart, on (own, other, …)):
    it stays fast with 100,000 invoices, unlike a DISTINCT over all of them.
    """
    own, other = ("supplier", "recipient") if side == SUPPLIER else ("recipient", "supplier")
    rows = await Invoice.raw(
        f"WITH RECURSIVE r(x) AS ("
        f"SELECT MIN({other}) FROM invoice WHERE {own} = {{}} "
        f"UNION ALL SELECT (SELECT MIN({other}) FROM invoice WHERE {own} = {{}} AND {other} > r.x) FROM r "
        f"WHERE r.x IS NOT NULL) "
        f"SELECT s.id, s.name, s.siret FROM r JOIN structure s ON s.id = r.x ORDER BY s.name LIMIT {{}}",
        structure_id, structure_id, limit)
    return list(rows)


def with_cursor(filters: Filters, cursor: str | None) -> Filters:
    return replace(filters, after=Cursor.decode(cursor) if cursor else None)
