"""Schemathesis against the real server (`facteur serve` in a subprocess) and its OpenAPI document.

Two keys on the demo data (a supplier company, a public structure): every operation is
called with generated valid and invalid input; no answer may be a 5xx, and every answer
must match the documented schema and content type. The number of examples per operation
is bounded so the whole test takes a minute or two.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from backend.api.keys import create_key
from backend.directory.tables import Structure
from tests.e2e.conftest import ROOT, Server, _free_port, _stop, _wait_healthy

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
MAX_EXAMPLES = "10"
RUN_TIMEOUT = 300


@pytest.fixture
async def keys(clean_db) -> dict[str, str]:
    from backend.demo import load_demo

    data = await load_demo()
    supplier = await Structure.objects().get(Structure.siret == data["supplier"]["siret"])
    public = await Structure.objects().get(Structure.siret == data["public_structures"][0]["siret"])
    return {
        "supplier": (await create_key(supplier, "schemathesis", ("deposit", "read", "directory"), None)).secret,
        "public": (await create_key(public, "schemathesis", ("read", "process", "directory"), None)).secret,
    }


@pytest.fixture
def api_server(keys, settings, tmp_path) -> Server:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    env |= {
        # The test's data folder: the demo invoices' files were stored there.
        "FACTEUR_DATA_DIR": str(settings.data_dir), "FACTEUR_BASE_URL": base_url, "FACTEUR_DATABASE_URL": settings.database_url,
        "FACTEUR_OUTBOX_WORKER": "0",  # generated webhook URLs must never be called
        "FACTEUR_API_RATE_LIMIT": "100000", "PYTHONUNBUFFERED": "1",
    }
    if settings.redis_url:
        env["FACTEUR_REDIS_URL"] = settings.redis_url
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    server = Server(base_url=base_url, data_dir=tmp_path, log_path=log_path, process=process)
    try:
        _wait_healthy(server)
        yield server
    finally:
        _stop(process)


def _schemathesis(server: Server, key: str, report: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", server.url("/api/v1/openapi.json"),
        "-H", f"Authorization: Bearer {key}", "--checks", CHECKS, "--max-examples", MAX_EXAMPLES, "--seed", "2026",
        "--workers", "1", "--request-timeout", "30", "--generation-database", "none", "--no-color",
        "--phases", "examples,coverage,fuzzing", "--report", "junit", "--report-junit-path", str(report), *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False, cwd=server.data_dir)


def test_no_5xx_and_every_answer_matches_the_schema(api_server, keys, tmp_path):
    supplier = _schemathesis(api_server, keys["supplier"], tmp_path / "supplier.xml")
    assert supplier.returncode == 0, supplier.stdout[-6000:] + "\n" + api_server.log_tail()
    assert _cases(tmp_path / "supplier.xml") >= 22  # every operation was called
    public = _schemathesis(api_server, keys["public"], tmp_path / "public.xml", "--include-path-regex", "^/api/v1/received")
    assert public.returncode == 0, public.stdout[-6000:] + "\n" + api_server.log_tail()
    assert _cases(tmp_path / "public.xml") >= 3


def _cases(report: Path) -> int:
    """Test cases in the JUnit report, after checking none failed."""
    suites = ElementTree.parse(report).getroot().iter("testsuite")
    total = 0
    for suite in suites:
        assert suite.get("failures") == "0" and suite.get("errors") == "0", ElementTree.tostring(suite)[:2000]
        total += int(suite.get("tests"))
    return total
