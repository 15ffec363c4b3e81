"""Test set-up shared by every suite.

The database is the one FACTEUR_DATABASE_URL names (SQLite in a temporary folder when
unset); `make test` runs the suite once per engine. The environment is fixed here,
before any backend module reads its settings.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

_DATA_DIR = Path(tempfile.mkdtemp(prefix="facteur-test-"))
os.environ["FACTEUR_DATA_DIR"] = str(_DATA_DIR)
os.environ.setdefault("FACTEUR_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.pop("FACTEUR_SMTP_HOST", None)  # tests that want SMTP start their own server
# Most tests sign in as the gestionnaire of the structure they create, without a second
# factor; the default "managers" policy is proven by tests that build an app with it
# (tests/integration/test_two_factor_policy.py) and by the browser tests of two-factor login.
os.environ.setdefault("FACTEUR_TWO_FACTOR", "optional")

import pytest  # noqa: E402

from backend.settings import get_settings  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"

pytest_plugins = [
    "tests.support.clock",  # the `clock` fixture: deadlines fall due without sleeping
    "tests.support.cdar_check",  # every CDAR message built by a test is checked (XSD + schematron)
]


def require_component(available: bool, what: str) -> None:
    """Skip a test whose component is missing on a laptop; fail it under CI=true."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} est requis sous CI=true mais n'est pas disponible.")
    pytest.skip(f"{what} n'est pas disponible sur cette machine.")


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    """pytest-timeout's thread method, preceded by a report of what the hung test awaited."""
    if not settings.timeout or settings.method != "thread":
        return None
    import pytest_timeout

    from tests.support.hang_report import print_report

    def expire():
        # pytest-timeout dumps the captured output and the threads' stacks, then ends the process;
        # our report (which test, what it awaited, PostgreSQL's locks) goes last so that a log
        # read from its end, as CI shows it, starts with what matters.
        try:
            terminal = item.config.get_terminal_writer()
            capman = item.config.pluginmanager.getplugin("capturemanager")
            if capman:
                capman.suspend_global_capture(item)
                out, err = capman.read_global_capture()
                terminal.write(out + err)
            pytest_timeout.dump_stacks(terminal)
            terminal.flush()
        finally:
            print_report(get_settings().database_url, item.nodeid, settings.timeout)
            os._exit(1)

    timer = threading.Timer(settings.timeout, expire)
    timer.daemon = True

    def cancel():
        timer.cancel()
        timer.join()

    item.cancel_timeout = cancel
    timer.start()
    return True


@pytest.fixture(scope="session")
def settings():
    # No outbox worker inside the apps under test: the tests that deliver drive the worker
    # pass by pass (or start `facteur worker`), and a second worker in the app would race
    # them for the same rows.
    import msgspec

    return msgspec.structs.replace(get_settings(), outbox_worker=False)


@pytest.fixture(scope="session")
async def migrated_db(settings):
    """Apply the migrations once per run, on a fresh database."""
    from backend.lib import db

    if settings.is_postgres:
        await _reset_postgres(settings)
    await db.run_migrations()
    if settings.is_postgres:
        await _keep_insertion_order()
    yield


async def _keep_insertion_order() -> None:
    """Tables are emptied with DELETE between tests (tests/support/database.py); a vacuum would
    let new rows fill the space of deleted ones, and an unordered SELECT would then return them
    out of insertion order, as it never did after TRUNCATE. A test's tables stay small: no vacuum."""
    from tests.support.database import table_names
    from backend.lib.db import engine

    for name in table_names():
        await engine().run_ddl(f"ALTER TABLE {name} SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)")


async def _reset_postgres(settings) -> None:
    # Only a database whose name ends in "test" (test, api_test…) is ever wiped: never
    # point the suite at real data.
    if not settings.database_url.rstrip("/").rsplit("/", 1)[-1].endswith("test"):
        raise RuntimeError("Les tests n'effacent qu'une base PostgreSQL dont le nom finit par « test ».")
    from backend.lib.db import engine

    # Sessions left on this database by an earlier run that was killed (a server, a worker
    # frozen by the crash test) could hold locks for ever, and every TRUNCATE would wait.
    await engine().run_ddl(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    await engine().run_ddl("DROP SCHEMA public CASCADE")
    await engine().run_ddl("CREATE SCHEMA public")


@pytest.fixture
async def clean_db(migrated_db):
    """Every table emptied before the test: tests never see each other's rows."""
    from tests.support.database import truncate_all

    await truncate_all()
    yield
