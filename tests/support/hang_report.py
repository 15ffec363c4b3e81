"""What a test that hangs was waiting for, printed before pytest-timeout ends the run.

pytest-timeout's thread method dumps the threads' stacks, but an async test hangs inside
the event loop's `select()`: its stack says nothing. What helps is the coroutines still
pending and, on PostgreSQL, which sessions hold or wait for a lock (a TRUNCATE between
tests waits forever behind a session left idle in a transaction).
"""

from __future__ import annotations

import asyncio
import gc
import io
import shutil
import subprocess
import sys

ACTIVITY_SQL = (
    "SELECT pid, application_name, state, wait_event_type, wait_event, "
    "pg_blocking_pids(pid) AS blocked_by, now() - xact_start AS in_transaction, left(query, 160) AS query "
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def running_loops() -> list[asyncio.AbstractEventLoop]:
    # The timer thread has no handle on the test's loop: asyncio keeps no registry of loops.
    return [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()]


def pending_tasks() -> str:
    out = io.StringIO()
    for loop in running_loops():
        for task in list(asyncio.all_tasks(loop)):
            print(f"--- {task.get_name()} {task.get_coro()!r}", file=out)
            task.print_stack(limit=12, file=out)
    return out.getvalue() or "(aucune tâche asyncio en attente)\n"


def postgres_activity(database_url: str) -> str:
    if not database_url.startswith("postgres") or not shutil.which("psql"):
        return ""
    try:
        done = subprocess.run(["psql", "-X", database_url, "-c", ACTIVITY_SQL],
                              capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return "(psql n'a pas répondu en 15 s)\n"
    return done.stdout + done.stderr


def print_report(database_url: str, nodeid: str = "", timeout: float = 0) -> None:
    sys.stderr.write("\n+++ Tâches asyncio en attente\n" + pending_tasks())
    activity = postgres_activity(database_url)
    if activity:
        sys.stderr.write("+++ Sessions PostgreSQL de la base de test\n" + activity)
    if nodeid:
        sys.stderr.write(f"+++ Test bloqué depuis {timeout:.0f} s, la suite s'arrête : {nodeid}\n")
    sys.stderr.flush()
