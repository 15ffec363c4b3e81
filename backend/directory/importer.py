"""`facteur directory import STRUCTURES.csv [SERVICES.csv]`: load Chorus Pro's directory export.

All or nothing: both files are read and every line checked before anything is written;
one bad line and nothing is imported (exit code 1, the bad lines listed with their line
numbers). Otherwise one transaction inserts the new SIRETs, updates the changed ones and
leaves the identical ones alone, in batches (150,000 structures take seconds, see
bench/directory/).

Existing structures with the same SIRET are updated, never duplicated. The import writes
the directory flags (service / engagement required, payment reported, active) and
`is_public` of every structure in the file. It writes the name and address only of the
directory's own structures: one that was not public yet (a supplier that signed up) or
that has active members (agents who joined) keeps its profile, which its managers edit.
VAT number, IBAN, BIC and contact are never touched. Structures and services absent from
the files are left as they are (a partial file never deletes anything).

Exit codes: 0 imported (even when nothing changed), 1 refused (unreadable file, missing
column, bad lines); 2 is the CLI's own "invalid configuration".
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from piccolo.engine.postgres import PostgresEngine

from backend.lib.common import utcnow
from backend.lib.db import engine, transaction
from backend.lib.formats import plural
from backend.directory.export_csv import (
    ENCODING_LABELS,
    FileRefused,
    LineIssue,
    ParsedFile,
    ServiceRow,
    StructureRow,
    read_services,
    read_structures,
)
from backend.directory.identifiers import siren_of
from backend.directory.search import search_key_for

BATCH = 2000
VACUUM_AFTER = 10_000  # rows written; PostgreSQL only
MAX_LISTED = 200  # lines listed on the terminal; the report keeps them all
DELIMITER_LABELS = {";": "« ; »", ",": "« , »", "\t": "tabulation", "|": "« | »"}

# Directory columns: always written. Profile columns: written unless the structure keeps its profile.
FLAG_COLUMNS = ("requires_service", "requires_engagement", "requires_service_or_engagement", "reports_payment", "active")
PROFILE_COLUMNS = ("name", "address_line1", "address_line2", "address_line3", "postal_code", "city")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


@dataclass
class ImportReport:
    structures: Counts = field(default_factory=Counts)
    services: Counts = field(default_factory=Counts)
    files: list[ParsedFile] = field(default_factory=list)
    skipped: list[LineIssue] = field(default_factory=list)
    bad: list[LineIssue] = field(default_factory=list)
    refused: str | None = None  # a whole file was unusable
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (bench)

    @property
    def imported(self) -> bool:
        return self.refused is None and not self.bad


class _Refused(Exception):
    """Raised inside the transaction to roll it back."""


# --- entry points --------------------------------------------------------------------


def import_command(structures: str, services: str | None) -> int:
    """The CLI command: import, print the French summary, return the exit code."""
    from backend.lib.db import run_migrations

    async def run() -> ImportReport:
        progress = io.StringIO()  # Piccolo's migration chatter, shown only when it fails
        try:
            with contextlib.redirect_stderr(progress):
                await run_migrations()
        except Exception:
            print(progress.getvalue(), file=sys.stderr)
            raise
        return await import_directory(structures, services)

    report = asyncio.run(run())
    out, err = format_report(report)
    if out:
        print(out)
    if err:
        print(err, file=sys.stderr)
    return 0 if report.imported else 1


async def import_directory(structures_path: str | Path, services_path: str | Path | None = None) -> ImportReport:
    """Validate both files, then write everything in one transaction, or nothing."""
    started = time.perf_counter()
    report = ImportReport()
    try:
        structures = read_structures(structures_path)
        report.files.append(structures)
        services = None
        if services_path is not None:
            services = read_services(services_path, structures.skipped_ids)
            report.files.append(services)
    except FileRefused as exc:
        report.refused = exc.message
        report.seconds = time.perf_counter() - started
        return report
    report.timings["read"] = time.perf_counter() - started
    for parsed in report.files:
        report.bad.extend(parsed.bad)
        report.skipped.extend(parsed.skipped)
    report.structures.skipped = len(structures.skipped)
    if services is not None:
        report.services.skipped = len(services.skipped)
    try:
        async with transaction() as txn:
            db = _Database(txn.connection, isinstance(engine(), PostgresEngine))
            await db.lock()
            mark = time.perf_counter()
            plan = await _plan(db, structures.rows, services.rows if services else [], report)
            report.timings["compare"] = time.perf_counter() - mark
            if report.bad:
                raise _Refused()
            mark = time.perf_counter()
            await _write(db, plan, report)
            report.timings["write"] = time.perf_counter() - mark
            mark = time.perf_counter()
        report.timings["commit"] = time.perf_counter() - mark
        written = report.structures.created + report.structures.updated + report.services.created + report.services.updated
        if db.postgres and written > VACUUM_AFTER and engine().current_transaction.get() is None:
            # After a big import: dead row versions gone, GIN pending list merged, fresh
            # statistics, so the search plans stay fast (VACUUM runs outside a transaction).
            mark = time.perf_counter()
            await engine().run_ddl("VACUUM (ANALYZE) structure")
            await engine().run_ddl("VACUUM (ANALYZE) service")
            report.timings["vacuum"] = time.perf_counter() - mark
    except _Refused:
        skipped = (report.structures.skipped, report.services.skipped)
        report.structures, report.services = Counts(skipped=skipped[0]), Counts(skipped=skipped[1])
    report.bad.sort(key=lambda issue: (issue.file != structures.name, issue.line))
    report.seconds = time.perf_counter() - started
    return report


# --- database access -----------------------------------------------------------------


class _Database:
    """Bulk reads and writes on the transaction's own connection (aiosqlite or asyncpg).

    SQL is written with `?` placeholders; PostgreSQL gets `$n`. Values go through the same
    driver adapters Piccolo uses, so rows read back through Piccolo are identical.
    """

    def __init__(self, connection: Any, postgres: bool) -> None:
        self.connection = connection
        self.postgres = postgres

    def _sql(self, sql: str) -> str:
        if not self.postgres:
            return sql
        parts = sql.split("?")
        return "".join(f"{part}${i}" if i < len(parts) else part for i, part in enumerate(parts, start=1))

    async def lock(self) -> None:
        # SQLite: the IMMEDIATE transaction already holds the write lock. PostgreSQL: keep
        # other writers of these tables out until commit (readers are not blocked).
        if self.postgres:
            await self.connection.execute("LOCK TABLE structure, service IN SHARE ROW EXCLUSIVE MODE")
        else:
            # A bigger page cache for this connection only: index pages of 150,000 rows stay in memory.
            await self.connection.execute("PRAGMA cache_size = -262144")

    async def fetch(self, sql: str, *args: Any) -> list:
        if self.postgres:
            return await self.connection.fetch(self._sql(sql), *args)
        async with self.connection.execute(sql, args) as cursor:
            return await cursor.fetchall()

    async def execute_many(self, sql: str, rows: Sequence[tuple]) -> None:
        sql = self._sql(sql)
        for start in range(0, len(rows), BATCH):
            await self.connection.executemany(sql, rows[start:start + BATCH])

    async def update_by_id(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
        """Bulk update, each row being (*values of columns, id), in batches."""
        if rows:
            assignments = ", ".join(f"{c} = ?" for c in columns)
            await self.execute_many(f"UPDATE {table} SET {assignments} WHERE id = ?", rows)

    async def copy_or_insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
        """Bulk insert: COPY on PostgreSQL, batched executemany on SQLite."""
        if not rows:
            return
        if self.postgres:
            await self.connection.copy_records_to_table(table, records=rows, columns=list(columns))
            return
        marks = ", ".join("?" for _ in columns)
        await self.execute_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


# --- planning ------------------------------------------------------------------------


@dataclass
class _Plan:
    new_structures: list[tuple] = field(default_factory=list)
    structure_updates: list[tuple] = field(default_factory=list)
    services: list[ServiceRow] = field(default_factory=list)


STRUCTURE_READ = ("id", "siret", "is_public", *PROFILE_COLUMNS, "search_key", *FLAG_COLUMNS)
INSERT_COLUMNS = ("siret", "siren", "name", "search_key", "address_line1", "address_line2", "address_line3",
                  "postal_code", "city", "country", "is_public", *FLAG_COLUMNS, "created_at", "updated_at")
UPDATE_COLUMNS = ("is_public", *PROFILE_COLUMNS, "search_key", *FLAG_COLUMNS)


async def _plan(db: _Database, structures: list[StructureRow], services: list[ServiceRow], report: ImportReport) -> _Plan:
    """Compare the files with the database: what to create, what to update, what is unchanged."""
    from backend.accounts.tables import Membership

    existing = {row["siret"]: row for row in await db.fetch(f"SELECT {', '.join(STRUCTURE_READ)} FROM structure")}
    members = {row["structure"] for row in await db.fetch(
        f"SELECT DISTINCT structure FROM {Membership._meta.tablename} WHERE status = ?", "active")}
    now = utcnow()
    plan = _Plan()
    for row in structures:
        current = existing.get(row.siret)
        if current is None:
            plan.new_structures.append((
                row.siret, siren_of(row.siret), row.name, search_key_for(row.name, row.postal_code, row.city),
                row.address_line1, row.address_line2, row.address_line3, row.postal_code, row.city, "FR", True,
                *(getattr(row, c) for c in FLAG_COLUMNS), now, now,
            ))
            continue
        keep_profile = not current["is_public"] or current["id"] in members
        profile = {c: current[c] if keep_profile else getattr(row, c) for c in PROFILE_COLUMNS}
        wanted = {
            "is_public": True,
            **profile,
            "search_key": search_key_for(profile["name"], profile["postal_code"], profile["city"]),
            **{c: getattr(row, c) for c in FLAG_COLUMNS},
        }
        if all(_same(current[c], wanted[c]) for c in UPDATE_COLUMNS):
            report.structures.unchanged += 1
        else:
            plan.structure_updates.append((*(wanted[c] for c in UPDATE_COLUMNS), now, current["id"]))
    report.structures.created = len(plan.new_structures)
    report.structures.updated = len(plan.structure_updates)

    # A service's structure is in the structures file or already public in the database.
    in_file = {row.siret for row in structures}
    public = {siret for siret, row in existing.items() if row["is_public"]}
    for service in services:
        if service.siret in in_file or service.siret in public:
            plan.services.append(service)
        else:
            report.bad.append(LineIssue(
                _file_name(report, 1), service.line,
                f"la structure {service.siret} n'est ni dans le fichier des structures ni dans l'annuaire.",
            ))
    return plan


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return bool(stored) == wanted
    return (stored or "") == wanted


def _file_name(report: ImportReport, index: int) -> str:
    return report.files[index].name


# --- writing -------------------------------------------------------------------------


async def _write(db: _Database, plan: _Plan, report: ImportReport) -> None:
    await db.copy_or_insert("structure", INSERT_COLUMNS, plan.new_structures)
    await db.update_by_id("structure", (*UPDATE_COLUMNS, "updated_at"), plan.structure_updates)
    if plan.services:
        await _write_services(db, plan.services, report)


async def _write_services(db: _Database, services: list[ServiceRow], report: ImportReport) -> None:
    sirets = {s.siret for s in services}
    ids = {row["siret"]: row["id"] for row in await db.fetch("SELECT id, siret FROM structure WHERE is_public = TRUE") if row["siret"] in sirets}
    existing = {
        (row["structure"], row["code"]): row
        for row in await db.fetch("SELECT id, structure, code, name, requires_engagement, active FROM service")
    }
    now = utcnow()
    inserts: list[tuple] = []
    updates: list[tuple] = []
    for service in services:
        structure_id = ids[service.siret]
        current = existing.get((structure_id, service.code))
        values = (service.name, service.requires_engagement, service.active)
        if current is None:
            inserts.append((structure_id, service.code, *values, now))
        elif (current["name"], bool(current["requires_engagement"]), bool(current["active"])) == values:
            report.services.unchanged += 1
        else:
            updates.append((*values, now, current["id"]))
    await db.copy_or_insert("service", ("structure", "code", "name", "requires_engagement", "active", "updated_at"), inserts)
    await db.update_by_id("service", ("name", "requires_engagement", "active", "updated_at"), updates)
    report.services.created = len(inserts)
    report.services.updated = len(updates)


# --- French summary ------------------------------------------------------------------


def _counts_line(label: str, counts: Counts, feminine: bool) -> str:
    e = "e" if feminine else ""
    return (
        f"{label} : {plural(counts.created, f'créé{e}', f'créé{e}s')}, "
        f"{plural(counts.updated, f'mis{e} à jour', f'mis{e}s à jour' if feminine else 'mis à jour')}, "
        f"{plural(counts.unchanged, f'inchangé{e}', f'inchangé{e}s')}, "
        f"{plural(counts.skipped, f'ignoré{e}', f'ignoré{e}s')}."
    )


def _listed(issues: Iterable[LineIssue]) -> list[str]:
    issues = list(issues)
    lines = [f"  {issue}" for issue in issues[:MAX_LISTED]]
    if len(issues) > MAX_LISTED:
        lines.append(f"  … et {plural(len(issues) - MAX_LISTED, 'autre')}.")
    return lines


def format_report(report: ImportReport) -> tuple[str, str]:
    """(stdout, stderr) texts in French."""
    if report.refused:
        return "", f"Import refusé : {report.refused}\nRien n'a été importé."
    out: list[str] = []
    for parsed in report.files:
        out.append(
            f"Fichier « {parsed.name} » : {plural(parsed.lines, 'ligne', 'lignes')}, "
            f"encodage {ENCODING_LABELS.get(parsed.encoding, parsed.encoding)}, "
            f"séparateur {DELIMITER_LABELS.get(parsed.delimiter, parsed.delimiter)}."
        )
    if not report.imported:
        err = [
            f"Import refusé : {plural(len(report.bad), 'ligne en erreur', 'lignes en erreur')}, rien n'a été importé.",
            *_listed(report.bad),
            "Corrigez ces lignes puis relancez l'import.",
        ]
        return "\n".join(out), "\n".join(err)
    out.append(_counts_line("Structures", report.structures, feminine=True))
    if len(report.files) > 1:
        out.append(_counts_line("Services", report.services, feminine=False))
    if report.skipped:
        out.append(f"{plural(len(report.skipped), 'ligne ignorée', 'lignes ignorées')} :")
        out.extend(_listed(report.skipped))
    out.append(f"Import terminé en {report.seconds:.1f} s.".replace(".", ",", 1))
    return "\n".join(out), ""
