"""`make run PORT=…`: e-mail links point to the port the server listens on, and the mailbox is in the browser.

The serve command is the one `make run` runs (read from `make -n`), started on a free
port with its own data folder (its own SQLite file) and no FACTEUR_BASE_URL: a newcomer
signs up, reads the confirmation e-mail on /dev/mailbox and confirms by its link.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import valid_siret
from tests.support.web import csrf_from, mailbox_messages

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_run_serve_line(port: int) -> str:
    """The `facteur serve` line of `make run PORT=…`, as make would run it."""
    dry_run = subprocess.run(["make", "-n", "run", f"PORT={port}", "HOST=127.0.0.1"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    lines = [line for line in dry_run.splitlines() if "facteur serve" in line]
    assert len(lines) == 1, dry_run
    return lines[0]


@pytest.fixture
def served(tmp_path):
    """`make run`'s server on a free port; stopped (its process group, which this fixture created) at the end."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    env |= {"FACTEUR_DATA_DIR": str(tmp_path / "data"), "FACTEUR_OUTBOX_WORKER": "0"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["bash", "-c", _make_run_serve_line(port)], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        yield base, tmp_path / "data" / "mailbox", log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_a_newcomer_confirms_an_account_from_the_mailbox_page_on_another_port(served):
    base, mailbox, log = served
    # The run command says where the site and the e-mails are.
    assert f"{base}/dev/mailbox" in log.read_text()
    with httpx.Client(base_url=base, timeout=30) as browser:
        token = csrf_from(browser.get("/signup").text)
        signed_up = browser.post("/signup", data={
            "_csrf_token": token, "company_name": "Menuiserie du Port", "siret": valid_siret(), "first_name": "Alex",
            "last_name": "Nouveau", "email": "nouveau@exemple.fr", "password": "mot-de-passe-solide"})
        assert signed_up.status_code == 201, signed_up.text
        (mail,) = mailbox_messages(mailbox)
        link = re.search(r"https?://\S+/confirm/\S+", mail.get_body(preferencelist=("plain",)).get_content()).group(0)
        assert link.startswith(f"{base}/confirm/")  # not :8000
        # The mailbox page shows the e-mail with its link clickable.
        listing = browser.get("/dev/mailbox")
        assert listing.status_code == 200 and f'<a href="{link}"' in listing.text
        confirm_page = browser.get(link)
        assert confirm_page.status_code == 200
        confirmed = browser.post(link, data={"_csrf_token": csrf_from(confirm_page.text)}, follow_redirects=True)
        assert confirmed.status_code == 200
        logged_in = browser.post("/login", data={"_csrf_token": csrf_from(browser.get("/login").text),
                                                 "email": "nouveau@exemple.fr", "password": "mot-de-passe-solide"})
        assert logged_in.status_code in (200, 302, 303), logged_in.text
