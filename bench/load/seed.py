"""Seeding of the load bench (imported by bench/load/run.py, which sets FACTEUR_* first).

A fresh schema (the application's migrations), then `facteur demo`'s data (`load_demo`: the
demo supplier, three public structures, eight invoices through the real pipeline), then:

- `clones` copies of the demo invoice F2026-0101 (MISE_A_DISPOSITION, supplier → Commune de
  Villebourg) with their own numbers and spread issue dates: the lists have pages to show
  and the status changes have invoices to take in charge;
- the people of the mix (supplier users who deposit and consult, Villebourg agents who
  process), and `watchers` people who only hold a live stream: half members of the
  supplier, half of Villebourg, so every event of the mix reaches all of them;
- API keys (one per API virtual user: the rate limit is per key).

The bench's own accounts get a cheap Argon2 hash: logins happen before the measure.
"""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "mot-de-passe-du-banc-de-charge"
TEMPLATE_NUMBER = "F2026-0101"  # the demo invoice waiting for the agent (MISE_A_DISPOSITION)


@dataclass
class Seeded:
    supplier_id: int
    supplier_siret: str
    recipient_id: int  # Commune de Villebourg
    recipient_siret: str
    waiting_ids: list[int]  # MISE_A_DISPOSITION, for the status changes
    supplier_invoice_ids: list[int]
    received_invoice_ids: list[int]
    watcher_emails: list[str]
    supplier_emails: list[str]
    agent_emails: list[str]
    supplier_keys: list[str]  # deposit, read, directory
    agent_keys: list[str]  # read, process


async def reset_schema() -> None:
    from backend.lib import db

    await db.engine().run_ddl("DROP SCHEMA public CASCADE")
    await db.engine().run_ddl("CREATE SCHEMA public")
    await db.run_migrations()


async def clone_invoices(count: int) -> None:
    """`count` copies of the template invoice in one INSERT … SELECT (triggers keep the counters)."""
    from backend.invoices.tables import Invoice

    renamed = {"id", "number", "certificate_number", "issue_date", "deposited_at", "updated_at"}
    rows = await Invoice.raw("SELECT column_name FROM information_schema.columns WHERE table_name = 'invoice' "
                             "AND table_schema = 'public' ORDER BY ordinal_position")
    kept = ", ".join(r["column_name"] for r in rows if r["column_name"] not in renamed)
    await Invoice.raw(
        f"INSERT INTO invoice ({kept}, number, certificate_number, issue_date, deposited_at, updated_at) "
        f"SELECT {kept}, 'L-' || lpad(n::text, 6, '0'), 'AD-L-' || n, current_date - (n % 700), "
        f"now() - (n % 700) * interval '1 day', now() - (n % 700) * interval '1 day' "
        f"FROM invoice, generate_series(1, {int(count)}) AS n WHERE invoice.number = '{TEMPLATE_NUMBER}'")


async def add_people(prefix: str, count: int, structure_id: int, **rights: bool) -> list[str]:
    from argon2 import PasswordHasher

    from backend.accounts.tables import Membership, User
    from backend.lib.common import utcnow

    if count == 0:
        return []
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    emails = [f"{prefix}{i}@banc-charge.fr" for i in range(count)]
    users = [User(email=e, password_hash=cheap, first_name="Banc", last_name=f"{prefix} {i}", email_confirmed_at=utcnow())
             for i, e in enumerate(emails)]
    ids = [row["id"] for row in await User.insert(*users)]
    await Membership.insert(*[Membership(user=i, structure=structure_id, status="active", **rights) for i in ids])
    return emails


async def add_keys(structure, scopes: tuple[str, ...], count: int) -> list[str]:
    from backend.api.keys import create_key

    return [(await create_key(structure, f"Banc de charge {i}", scopes, None)).secret for i in range(count)]


async def seed(*, clones: int, watchers: int, supplier_users: int, agent_users: int, supplier_keys: int,
               agent_keys: int) -> Seeded:
    from backend.demo import PUBLIC, SUPPLIER, load_demo
    from backend.directory.tables import Structure
    from backend.invoices.tables import Invoice

    await reset_schema()
    await load_demo()
    await clone_invoices(clones)
    supplier = await Structure.objects().get(Structure.siret == SUPPLIER["siret"])
    recipient = await Structure.objects().get(Structure.siret == PUBLIC[0]["siret"])
    half = watchers // 2
    watcher_emails = (await add_people("veille-f", watchers - half, supplier.id, can_consult=True)
                      + await add_people("veille-a", half, recipient.id, can_consult=True))
    supplier_emails = await add_people("fournisseur", supplier_users, supplier.id, can_consult=True, can_deposit=True)
    agent_emails = await add_people("agent", agent_users, recipient.id, can_consult=True, can_process=True)
    waiting = await Invoice.select(Invoice.id).where(
        (Invoice.recipient == recipient.id) & (Invoice.status == "MISE_A_DISPOSITION")).order_by(Invoice.id)
    mine = await Invoice.select(Invoice.id).where(Invoice.supplier == supplier.id)
    received = await Invoice.select(Invoice.id).where(Invoice.recipient == recipient.id)
    return Seeded(
        supplier_id=supplier.id, supplier_siret=supplier.siret, recipient_id=recipient.id, recipient_siret=recipient.siret,
        waiting_ids=[r["id"] for r in waiting], supplier_invoice_ids=[r["id"] for r in mine],
        received_invoice_ids=[r["id"] for r in received], watcher_emails=watcher_emails,
        supplier_emails=supplier_emails, agent_emails=agent_emails,
        supplier_keys=await add_keys(supplier, ("deposit", "read", "directory"), supplier_keys),
        agent_keys=await add_keys(recipient, ("read", "process"), agent_keys),
    )
