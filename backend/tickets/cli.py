"""`facteur support add-operator EMAIL` (and `remove-operator`, `list`): the platform's support team."""

from __future__ import annotations

import argparse
import asyncio
import sys


async def add_operator(email: str) -> tuple[bool, str]:
    """(added, message): the person must have an account already (they log in like everyone)."""
    from backend.accounts.service import normalize_email
    from backend.accounts.tables import User
    from backend.lib.common import utcnow
    from backend.tickets.tables import SupportOperator

    user = await User.objects().get(User.email == normalize_email(email))
    if user is None:
        return False, f"Aucun compte n'a l'adresse {email} : la personne doit d'abord s'inscrire."
    if await SupportOperator.exists().where(SupportOperator.user == user.id):
        return True, f"{user.email} fait déjà partie du support."
    await SupportOperator.insert(SupportOperator(user=user.id, created_at=utcnow()))
    return True, f"{user.email} fait maintenant partie du support : sa file de tickets est sur /support/tickets."


def _add(args: argparse.Namespace) -> int:
    from backend.lib.db import run_migrations

    async def run() -> tuple[bool, str]:
        await run_migrations()
        return await add_operator(args.email)

    ok, message = asyncio.run(run())
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _remove(args: argparse.Namespace) -> int:
    from backend.accounts.service import normalize_email
    from backend.accounts.tables import User
    from backend.lib.db import run_migrations
    from backend.tickets.tables import SupportOperator

    async def run() -> int:
        await run_migrations()
        user = await User.objects().get(User.email == normalize_email(args.email))
        return len(await SupportOperator.delete().where(SupportOperator.user == user.id).returning(SupportOperator.id)) if user else 0

    removed = asyncio.run(run())
    print(f"{args.email} ne fait plus partie du support." if removed else f"{args.email} ne faisait pas partie du support.")
    return 0


def add_parser(sub) -> None:
    support = sub.add_parser("support", help="équipe support de la plateforme (opérateurs des tickets)")
    support_sub = support.add_subparsers(dest="support_command", required=True)
    add = support_sub.add_parser("add-operator", help="fait d'un compte existant un opérateur du support")
    add.add_argument("email")
    add.set_defaults(func=_add)
    remove = support_sub.add_parser("remove-operator", help="retire un opérateur du support")
    remove.add_argument("email")
    remove.set_defaults(func=_remove)
