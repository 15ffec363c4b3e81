"""`facteur apikey create`: a key for an ERP from the command line; the key alone on the last line."""

from __future__ import annotations

import argparse
import asyncio
import sys


def apikey_create(args: argparse.Namespace) -> int:
    from backend.api.keys import KeyError_, create_key, parse_scopes
    from backend.lib.db import run_migrations
    from backend.directory.tables import Structure

    async def run() -> int:
        await run_migrations()
        structure = await Structure.objects().get(Structure.siret == args.structure.strip())
        if structure is None:
            print(f"Aucune structure n'a le SIRET {args.structure}.", file=sys.stderr)
            return 1
        try:
            key = await create_key(structure, args.name or "", parse_scopes(args.scopes), None)
        except KeyError_ as exc:
            print(str(exc), file=sys.stderr)
            return 1
        print(f"Clé {key.prefix}… créée pour {structure.name} ({structure.siret}), permissions : {', '.join(key.scopes)}.")
        print("Elle ne sera plus affichée : conservez-la maintenant.")
        print(key.secret)
        return 0

    return asyncio.run(run())


def add_parser(sub) -> None:
    apikey = sub.add_parser("apikey", help="clés d'API des logiciels de facturation")
    apikey_sub = apikey.add_subparsers(dest="apikey_command", required=True)
    create = apikey_sub.add_parser("create", help="crée une clé ; elle est imprimée seule sur la dernière ligne")
    create.add_argument("--structure", required=True, help="SIRET de la structure")
    create.add_argument("--scopes", required=True, help="deposit,read,process,directory (séparées par des virgules)")
    create.add_argument("--name", default="", help="nom de la clé (ex. ERP compta)")
    create.set_defaults(func=apikey_create)
