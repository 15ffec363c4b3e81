"""`facteur serve` subprocesses for the tests that need several servers, or one they can stop."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.e2e.conftest import ROOT, Server, _free_port, _stop

STARTUP_TIMEOUT = 120.0  # schematron compilation and PDF warm-up, on a shared 2-core machine


def start_server(settings, data_dir: Path, *, port: int | None = None, redis_url: str | None = None, **env_extra: str) -> Server:
    """A server on the test run's database; its own data folder (sessions, mailbox) unless shared."""
    server = launch(settings, data_dir, port=port, redis_url=redis_url, **env_extra)
    wait_healthy(server)
    return server


def wait_healthy(server: Server, timeout: float = STARTUP_TIMEOUT) -> None:
    """/healthz answers 200 within the timeout, else the process is stopped and its log shown."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            with urllib.request.urlopen(server.url("/healthz"), timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused while uvicorn starts; HTTPError is an OSError too
            pass
        time.sleep(0.2)
    _stop(server.process)
    raise RuntimeError(f"{server.base_url} did not become healthy within {timeout} s:\n{server.log_tail()}")


def launch(settings, data_dir: Path, *, port: int | None = None, redis_url: str | None = None, **env_extra: str) -> Server:
    """Start the process without waiting for it (several servers start in parallel)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    env |= {
        "FACTEUR_DATA_DIR": str(data_dir), "FACTEUR_BASE_URL": base_url, "FACTEUR_DATABASE_URL": settings.database_url,
        "FACTEUR_SECRET_KEY": settings.secret_key, "FACTEUR_OUTBOX_WORKER": "0", "PYTHONUNBUFFERED": "1",
        # The suite's policy (tests/conftest.py): these servers' gestionnaires log in with a password alone.
        "FACTEUR_TWO_FACTOR": os.environ.get("FACTEUR_TWO_FACTOR", "optional"), **env_extra,
    }
    if redis_url:
        env["FACTEUR_REDIS_URL"] = redis_url
    log_path = data_dir / f"server-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    return Server(base_url=base_url, data_dir=data_dir, log_path=log_path, process=process)


@contextlib.contextmanager
def running(settings, *data_dirs: Path, **kwargs):
    """Several servers started together; all stopped at the end."""
    servers = [launch(settings, d, **kwargs) for d in data_dirs]
    try:
        for server in servers:
            wait_healthy(server)
        yield servers
    finally:
        for server in servers:
            stop(server)


def stop(server: Server) -> None:
    _stop(server.process)
