"""Browser tests: the real server in a subprocess, driven by headless Chromium at phone size.

The server (`python -m backend.cli serve`, what the `facteur serve` console script runs)
uses the test run's database (FACTEUR_DATABASE_URL, or the SQLite file of tests/conftest.py)
after `migrated_db` has reset it, and its own data folder: its mailbox (.eml files), its
sessions and its generated secret key. The in-process tests truncate the tables between
tests; the browser tests never rely on that: every person and SIRET they create is unique.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

import pytest

from tests.conftest import require_component
from tests.support.accounts import valid_siret

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("FACTEUR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}
STARTUP_TIMEOUT = 90.0  # schematron compilation and PDF warm-up; a loaded 2-core machine took 37 s
MAIL_TIMEOUT = 10.0
SCREENSHOTS_DIR = ROOT / "docs" / "screenshots"


def _playwright_available() -> bool:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base_url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def mailbox_dir(self) -> Path:
        return self.data_dir / "mailbox"

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        if not self.mailbox_dir.exists():
            return []
        found = []
        for path in sorted(self.mailbox_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == address:
                found.append(message)
        return found

    def wait_for_mail(self, address: str, subject_contains: str, timeout: float = MAIL_TIMEOUT) -> email.message.EmailMessage:
        """The newest mail to `address` whose subject contains the words; bounded wait."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [m for m in self.mails_to(address) if subject_contains in m["Subject"]]
            if matching:
                return matching[-1]
            if time.monotonic() > deadline:
                subjects = [m["Subject"] for m in self.mails_to(address)]
                raise AssertionError(f"no mail « {subject_contains} » to {address} within {timeout} s; got {subjects}")
            time.sleep(0.1)

    def link_in(self, message: email.message.EmailMessage, path_prefix: str) -> str:
        """The absolute link of the mail; it must point at this server (FACTEUR_BASE_URL)."""
        body = message.get_body(preferencelist=("plain",)).get_content()
        match = re.search(re.escape(self.base_url + path_prefix) + r"\S*", body)
        assert match, f"no {self.base_url}{path_prefix}… link in the mail:\n{body}"
        return match.group(0)


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url("/healthz"), timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last_error = f"HTTP {exc.code}"
        except OSError as exc:  # connection refused while uvicorn starts
            last_error = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"/healthz did not answer 200 within {STARTUP_TIMEOUT} s ({last_error}):\n{server.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    require_component(Path(CHROMIUM).exists() and _playwright_available(), f"Chromium ({CHROMIUM}) avec playwright")


def start_server(data_dir: Path, database_url: str, *, host: str = "127.0.0.1", env: dict[str, str] | None = None) -> Server:
    """`facteur serve` on a free port, healthy; the caller stops it with stop_server().

    `host` is the name in FACTEUR_BASE_URL (the server listens on 127.0.0.1 either way):
    WebAuthn refuses an IP address as relying party, so passkey tests use "localhost"."""
    port = _free_port()
    base_url = f"http://{host}:{port}"
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    server_env |= {
        "FACTEUR_DATA_DIR": str(data_dir),
        "FACTEUR_BASE_URL": base_url,
        "FACTEUR_DATABASE_URL": database_url,  # the database migrated_db has just reset
        # This server lives for the whole session and shares the database with the integration
        # tests that run after it: its outbox worker would take their notifications.
        "FACTEUR_OUTBOX_WORKER": "0",
        # The browser tests sign in as gestionnaires without a second factor, like the others
        # (tests/conftest.py); those of two-factor login start a server with "managers".
        "FACTEUR_TWO_FACTOR": os.environ.get("FACTEUR_TWO_FACTOR", "optional"),
        "PYTHONUNBUFFERED": "1",
    }
    server_env |= env or {}
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = Server(base_url=base_url, data_dir=data_dir, log_path=log_path, process=process)
    try:
        _wait_healthy(running)
    except BaseException:
        _stop(process)
        raise
    return running


def stop_server(server: Server) -> None:
    _stop(server.process)


@pytest.fixture(scope="session")
def server(chromium_ready, migrated_db, settings, tmp_path_factory) -> Server:
    """`facteur serve` on a free port; killed at the end of the session, or at once if it fails to start."""
    running = start_server(tmp_path_factory.mktemp("e2e-server-data"), settings.database_url)
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="session")
async def browser(chromium_ready):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class PageWatch:
    """What a page did that a test may want to refuse: errors, CSP violations, foreign requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


# Runs before any script of every document: CSP violations are DOM events, not only console lines.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " @" + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
async def phone(browser, server):
    """Factory of phone-sized browser contexts (one per person); each returns (page, watch)."""
    contexts = []

    async def open_phone():
        context = await browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="fr-FR",
            timezone_id="Europe/Paris",
            base_url=server.base_url,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        await context.add_init_script(_CSP_LISTENER)
        watch = PageWatch()
        context.on("request", lambda request: watch.requests.append(request.url))
        page = await context.new_page()
        page.on("console", lambda msg: watch.console_errors.append(msg.text) if msg.type in ("error", "warning") else None)
        page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
        return page, watch

    yield open_phone
    for context in contexts:
        await context.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Screenshots taken along the way (kept with pytest's temporary folders)."""
    return tmp_path_factory.mktemp("e2e-screenshots")


def save_docs_screenshot(source: Path, name: str) -> None:
    """Copy a screenshot to docs/screenshots/ only when asked: a normal run leaves the tree clean."""
    if os.environ.get("FACTEUR_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, SCREENSHOTS_DIR / name)


@dataclass
class Person:
    first_name: str
    last_name: str
    email: str
    company: str
    siret: str
    password: str = "un-mot-de-passe-solide"


def new_person(first_name: str, last_name: str, company: str, siret: str | None = None) -> Person:
    """A person no other test (nor an earlier run on the same database) uses."""
    tag = uuid.uuid4().hex[:8]
    seed = int(tag, 16) % 9_000_000 + 1_000_000
    return Person(first_name, last_name, f"{_ascii(first_name)}.{_ascii(last_name)}+{tag}@exemple.fr", company, siret or valid_siret(seed))


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
