"""A worker process killed (SIGKILL) after the status change committed, before it sent: the
notification is delivered by the next worker, exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from backend.notifications.tables import PushDelivery
from backend.processing.lifecycle import Actor, change_status
from backend.processing.tables import Outbox
from tests.integration.notifications.conftest import subscribe

ROOT = Path(__file__).resolve().parents[3]


def start_worker(settings, log: Path) -> subprocess.Popen:
    """`facteur worker` as deployed: its own process, the same database and VAPID keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    env |= {
        "FACTEUR_DATA_DIR": str(log.parent), "FACTEUR_DATABASE_URL": settings.database_url,
        "FACTEUR_SECRET_KEY": settings.secret_key, "FACTEUR_VAPID_PRIVATE_KEY": settings.vapid_private_key,
        "FACTEUR_VAPID_PUBLIC_KEY": settings.vapid_public_key, "FACTEUR_VAPID_SUBJECT": settings.vapid_subject,
        "FACTEUR_PUSH_ALLOW_LOCAL": "1", "PYTHONUNBUFFERED": "1",
    }
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "backend.cli", "worker"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


async def test_a_worker_killed_before_sending_loses_and_doubles_nothing(client, invoice, agent_id, settings, push_service, tmp_path):
    sub = push_service.subscriber()
    await subscribe(client, sub)
    log = tmp_path / "worker.log"
    first = start_worker(settings, log)
    try:
        time.sleep(1.5)  # running and polling
        assert first.poll() is None, log.read_text()
        os.kill(first.pid, signal.SIGSTOP)  # frozen: it cannot take the row we are about to write
        await change_status(invoice.id, Actor("recipient", agent_id), "REJETEE", expected_version=1,
                            reason_code="DOUBLON", comment="Déjà reçue")
        kill(first)  # SIGKILL right after the commit, before it could send anything
        assert push_service.received == []
        pending = await Outbox.select().where(Outbox.channel == "push").order_by(Outbox.id)
        assert len(pending) == 1 and pending[0]["delivered_at"] is None

        second = start_worker(settings, log)
        try:
            got = push_service.wait_for(1, timeout=30)
            assert len(got) == 1, log.read_text()
            time.sleep(2)  # a double would come within the worker's next polls
        finally:
            kill(second)
    finally:
        kill(first)
    assert len(push_service.received) == 1 and push_service.refused == []
    assert push_service.received[0].payload["title"] == f"Facture n°\u00a0{invoice.number} rejetée"
    rows = await Outbox.select().where(Outbox.channel.is_in(["push", "push_delivery"])).order_by(Outbox.id)
    assert all(r["delivered_at"] is not None for r in rows) and len(rows) == 2
    assert await PushDelivery.count() == 1
