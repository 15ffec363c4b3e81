"""Tables of the shared plumbing: the key-value store behind sessions and counters."""

from __future__ import annotations

from piccolo.columns import BigInt, Bytea, Varchar
from piccolo.table import Table


class StoreEntry(Table, tablename="store_entry"):
    """One value of a `DatabaseStore` (a session, a failure or rate counter).

    (namespace, name) is unique (raw migration). Expiry is Unix seconds, an integer that
    compares the same way on SQLite and PostgreSQL; None never expires."""

    namespace = Varchar(length=60)
    name = Varchar(length=255)
    value = Bytea(default=b"")
    counter = BigInt(default=0)
    expires_at = BigInt(null=True, default=None)
