"""The `facteur` command: serve, migrate, demo data, directory import, validation."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from backend.settings import SettingsError, get_settings, listen_url


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.lib.db import run_migrations
    from backend.lib.serving import HTTPProtocol

    if not (os.environ.get("FACTEUR_BASE_URL") or "").strip():
        # Links in e-mails point where this server listens (`make run PORT=8123`), not to
        # a fixed :8000; the variable is inherited by uvicorn's worker processes.
        os.environ["FACTEUR_BASE_URL"] = listen_url(args.host, args.port)
        get_settings.cache_clear()
    _announce(get_settings())
    asyncio.run(run_migrations())
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        http=HTTPProtocol,  # TCP_NODELAY on every connection (backend/lib/serving.py)
        log_level="info",
        timeout_graceful_shutdown=5,  # open /events streams never end by themselves
        # A worker compiles the schematron stylesheets at start (Saxon holds the GIL for
        # seconds): with uvicorn's 5 s default the supervisor killed busy workers in a loop.
        timeout_worker_healthcheck=120,
    )
    return 0


def _announce(settings) -> None:
    """Say where the site is and, with the development mailbox, where the e-mails arrive."""
    print(f"Facteur : {settings.base_url}/", flush=True)
    if settings.debug and not settings.smtp_host:
        print(f"Boîte e-mail de développement (confirmation de compte, mots de passe…) : {settings.base_url}/dev/mailbox",
              flush=True)


def _migrate(args: argparse.Namespace) -> int:
    from backend.lib.db import run_migrations

    asyncio.run(run_migrations())
    print("Migrations appliquées.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from backend.lib.db import run_migrations
    from backend.demo import load_demo, print_demo

    async def run() -> dict:
        await run_migrations()
        return await load_demo()

    data = asyncio.run(run())
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print_demo(data)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from backend.lib.db import run_migrations
    from backend.processing.worker import main as worker_main

    asyncio.run(run_migrations())
    try:
        asyncio.run(worker_main())
    except KeyboardInterrupt:
        pass
    return 0


def _directory_import(args: argparse.Namespace) -> int:
    from backend.directory.importer import import_command

    return import_command(args.structures, args.services)


def _validate(args: argparse.Namespace) -> int:
    from backend.invoices.validation.cli import main as validate_main

    portal_check = None
    if args.portal:
        from backend.lib.db import run_migrations
        from backend.invoices.portal_rules import command_line_check

        asyncio.run(run_migrations())
        portal_check = command_line_check
    return validate_main(args.paths, as_json=args.json, strict_fr=args.strict_fr, portal_check=portal_check)


def _clean_orphans(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from backend.invoices.storage import NoFileRows, clean_orphans
    from backend.lib.blobstore import BlobStoreUnavailable, blob_store
    from backend.lib.formats import plural

    settings = get_settings()
    if args.older_than < 0:
        print("--older-than doit être un nombre d'heures positif ou nul.", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(clean_orphans(settings, older_than=timedelta(hours=args.older_than), dry_run=args.dry_run))
    except BlobStoreUnavailable as exc:
        print(f"Stockage des fichiers indisponible ({blob_store(settings).description}) : {exc}", file=sys.stderr)
        return 1
    except NoFileRows:
        # Pointed at an empty or wrong database, every file would look orphaned.
        print("La base configurée ne désigne aucun fichier : rien n'est supprimé (FACTEUR_DATABASE_URL est-elle la bonne ?).",
              file=sys.stderr)
        return 1
    verb = "seraient supprimés" if args.dry_run else "supprimés"
    print(f"{plural(report.examined, 'fichier examiné', 'fichiers examinés')} dans le {blob_store(settings).description} ; "
          f"{plural(report.orphans, 'orphelin', 'orphelins')} ({plural(report.orphan_bytes, 'octet')}) {verb}.")
    return 0


def _ecb_rate_set(args: argparse.Namespace) -> int:
    """`facteur ecb-rate set YYYY-MM-DD RATE`: the ECB rate in force from that date (intérêts moratoires)."""
    from datetime import date
    from decimal import Decimal, InvalidOperation

    from backend.lib.db import run_migrations
    from backend.processing import late_interest

    try:
        effective_on = date.fromisoformat(args.date)
    except ValueError:
        print(f"La date « {args.date} » n'est pas valide : écrivez-la AAAA-MM-JJ (2026-06-11).", file=sys.stderr)
        return 1
    try:
        rate = Decimal(args.rate.replace(",", "."))
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not Decimal("-5") <= rate <= Decimal("30") or rate.as_tuple().exponent < -3:
        print(f"Le taux « {args.rate} » n'est pas valide : un pourcentage comme 2.15 (au plus trois décimales).", file=sys.stderr)
        return 1

    async def run() -> None:
        await run_migrations()
        await late_interest.set_rate(effective_on, rate)

    asyncio.run(run())
    print(f"Taux BCE de {rate} % en vigueur à partir du {effective_on:%d/%m/%Y} enregistré.")
    return 0


def _ecb_rate_list(args: argparse.Namespace) -> int:
    from backend.lib.db import run_migrations
    from backend.processing import late_interest

    async def run():
        await run_migrations()
        return await late_interest.rates()

    for effective_on, rate in asyncio.run(run()):
        print(f"{effective_on.isoformat()}\t{rate}")
    return 0


def _payment_delay(args: argparse.Namespace) -> int:
    """`facteur directory payment-delay SIRET DAYS`: the délai global de paiement of a public structure."""
    from backend.directory.tables import Structure
    from backend.lib.db import run_migrations

    if args.days is not None and not 1 <= args.days <= 365:
        print("Le délai doit être un nombre de jours entre 1 et 365 (30, 50 ou 60 selon la structure).", file=sys.stderr)
        return 1

    async def run() -> list:
        await run_migrations()
        return await Structure.update({Structure.payment_delay_days: args.days}).where(
            (Structure.siret == args.siret) & (Structure.is_public == True)).returning(Structure.name)  # noqa: E712

    updated = asyncio.run(run())
    if not updated:
        print(f"Aucune structure publique de SIRET {args.siret} dans l'annuaire.", file=sys.stderr)
        return 1
    shown = f"{args.days} jours" if args.days else "30 jours (par défaut)"
    print(f"Délai global de paiement de {updated[0]['name']} : {shown}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facteur", description="Facteur : factures électroniques vers les entités publiques.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="applique les migrations puis sert l'application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="livre les notifications en attente (push, webhooks), sans servir de pages")
    worker.set_defaults(func=_worker)

    migrate = sub.add_parser("migrate", help="applique les migrations en attente")
    migrate.set_defaults(func=_migrate)

    demo = sub.add_parser("demo", help="crée (ou retrouve) les données de démonstration")
    demo.add_argument("--json", action="store_true", help="imprime un objet JSON")
    demo.set_defaults(func=_demo)

    directory = sub.add_parser("directory", help="annuaire des structures publiques")
    directory_sub = directory.add_subparsers(dest="directory_command", required=True)
    imp = directory_sub.add_parser("import", help="importe l'export CSV de l'annuaire (structures, et services)")
    imp.add_argument("structures")
    imp.add_argument("services", nargs="?")
    imp.set_defaults(func=_directory_import)
    delay = directory_sub.add_parser("payment-delay", help="délai global de paiement d'une structure publique (30, 50, 60 jours)")
    delay.add_argument("siret")
    delay.add_argument("days", type=int, nargs="?", help="nombre de jours ; sans valeur : 30 jours par défaut")
    delay.set_defaults(func=_payment_delay)

    ecb = sub.add_parser("ecb-rate", help="taux BCE des intérêts moratoires")
    ecb_sub = ecb.add_subparsers(dest="ecb_command", required=True)
    ecb_set = ecb_sub.add_parser("set", help="enregistre le taux en vigueur à partir d'une date")
    ecb_set.add_argument("date", help="AAAA-MM-JJ")
    ecb_set.add_argument("rate", help="en %, par exemple 2.15")
    ecb_set.set_defaults(func=_ecb_rate_set)
    ecb_list = ecb_sub.add_parser("list", help="affiche les taux connus (livrés et ajoutés)")
    ecb_list.set_defaults(func=_ecb_rate_list)

    validate = sub.add_parser("validate", help="valide des fichiers de facture (Factur-X, CII, UBL)")
    validate.add_argument("paths", nargs="+")
    validate.add_argument("--json", action="store_true")
    validate.add_argument("--portal", action="store_true", help="applique aussi les règles du portail (base configurée)")
    validate.add_argument("--strict-fr", action="store_true", help="ajoute les règles françaises BR-FR")
    validate.set_defaults(func=_validate)

    files = sub.add_parser("files", help="fichiers stockés (originaux, pièces jointes)")
    files_sub = files.add_subparsers(dest="files_command", required=True)
    clean = files_sub.add_parser("clean-orphans", help="supprime les fichiers qu'aucune ligne de la base ne désigne")
    clean.add_argument("--dry-run", action="store_true", help="compte sans rien supprimer")
    clean.add_argument("--older-than", type=float, default=24.0, metavar="HEURES",
                       help="délai de grâce : seuls les fichiers écrits depuis plus longtemps sont supprimés (24 par défaut)")
    clean.set_defaults(func=_clean_orphans)

    from backend.api.cli import add_parser as add_apikey_parser

    add_apikey_parser(sub)
    from backend.tickets.cli import add_parser as add_support_parser

    add_support_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except SettingsError as exc:
        print(f"Configuration invalide : {exc}", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
