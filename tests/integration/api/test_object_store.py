"""Stored files in a shared S3-compatible bucket (FACTEUR_S3_*), and the orphan clean-up on both stores.

The bucket is served by moto's standalone server, started here on 127.0.0.1: a real S3
protocol over HTTP, no external service, so these tests run in both CI runs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.invoices import storage
from backend.invoices.tables import Deposit, Invoice, StoredFile
from backend.lib.blobstore import blob_store
from tests.integration.api.conftest import invoice_file
from tests.integration.conftest import _forget_sessions_and_counters
from tests.support.s3_server import start_s3_server

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = start_s3_server(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(params=["local", "s3"])
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def bucket(s3) -> str:
    return s3.new_bucket()


@pytest.fixture
def host_settings(settings, store_kind, s3, bucket, tmp_path):
    """A host with its own data folder; its files there or in the test's bucket."""
    own = msgspec.structs.replace(settings, data_dir=tmp_path / "host")
    return s3.settings(own, bucket) if store_kind == "s3" else own


@pytest.fixture
async def app(clean_db, host_settings):
    await _forget_sessions_and_counters(host_settings)
    return create_app(host_settings, connection_pool=False)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored_on_disk(settings) -> list[str]:
    return sorted(p.name for p in settings.files_dir.rglob("*") if p.is_file()) if settings.files_dir.exists() else []


@pytest.mark.parametrize("store_kind", ["s3"], indirect=True)
async def test_a_deposit_lands_in_the_bucket_and_another_host_reads_it(supplier_api, host_settings, s3, bucket, tmp_path):
    name, pdf = invoice_file()
    response = await supplier_api.deposit((name, pdf))
    assert response.status_code == 201, response.text
    invoice_id = response.json()["invoices"][0]["id"]
    assert s3.keys(bucket) == [f"files/{_digest(pdf)}"]
    assert _stored_on_disk(host_settings) == []  # nothing on this host's disk

    # Another host: its own (empty) data folder, the same database and bucket.
    other = msgspec.structs.replace(host_settings, data_dir=tmp_path / "other-host")
    async with AsyncTestClient(app=create_app(other, connection_pool=False)) as other_client:
        read = await other_client.get(f"/api/v1/invoices/{invoice_id}/file",
                                      headers={"Authorization": f"Bearer {supplier_api.secret}"})
    assert read.status_code == 200 and read.content == pdf
    assert read.headers["x-content-sha256"] == _digest(pdf)


@pytest.mark.parametrize("store_kind", ["s3"], indirect=True)
async def test_an_unreachable_bucket_refuses_the_deposit_whole_with_a_503(supplier_api, host_settings):
    name, pdf = invoice_file()
    stored = await supplier_api.deposit((name, pdf))
    assert stored.status_code == 201, stored.text
    invoice_id = stored.json()["invoices"][0]["id"]
    counts = (await Deposit.count(), await Invoice.count(), await StoredFile.count())

    # The same bucket behind an address where nothing listens.
    unreachable = msgspec.structs.replace(host_settings, s3_endpoint_url="http://127.0.0.1:9")
    headers = {"Authorization": f"Bearer {supplier_api.secret}"}
    async with AsyncTestClient(app=create_app(unreachable, connection_pool=False)) as down:
        refused = await down.post("/api/v1/deposits", headers=headers,
                                  files=[("file", invoice_file())])
        unread = await down.get(f"/api/v1/invoices/{invoice_id}/file", headers=headers)
        health = await down.get("/healthz")
    for response in (refused, unread):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "file_store_unavailable"
        assert response.json()["detail"] == "Le service est momentanément indisponible : réessayez dans quelques instants."
        assert response.headers["retry-after"]
    # Nothing half-written: no deposit, invoice or file row for the refused deposit.
    assert (await Deposit.count(), await Invoice.count(), await StoredFile.count()) == counts
    assert health.status_code == 200 and health.json()["status"] == "degraded" and health.json()["files"] == "unreachable"


def _run_clean_orphans(settings, s3, bucket, *args: str) -> subprocess.CompletedProcess:
    """`facteur files clean-orphans` as an operator runs it, on this host's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    env |= {"FACTEUR_DATA_DIR": str(settings.data_dir), "FACTEUR_DATABASE_URL": settings.database_url,
            "FACTEUR_SECRET_KEY": settings.secret_key, **(s3.env(bucket) if settings.s3_bucket else {})}
    return subprocess.run([sys.executable, "-m", "backend.cli", "files", "clean-orphans", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _clean_orphans(settings, s3, bucket, *args: str) -> str:
    done = _run_clean_orphans(settings, s3, bucket, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def _present(settings) -> set[str]:
    return {info.digest async for batch in blob_store(settings).listing() for info in batch}


async def test_clean_orphans_deletes_only_old_blobs_that_no_row_names(supplier_api, host_settings, s3, bucket):
    name, pdf = invoice_file()
    response = await supplier_api.deposit((name, pdf))
    assert response.status_code == 201, response.text
    invoice_id = response.json()["invoices"][0]["id"]
    # A blob written for a deposit whose commit never came (a crash between the two).
    orphan = await storage.write_blob(host_settings, b"%PDF-1.7 written, never committed")
    assert await _present(host_settings) == {_digest(pdf), orphan}

    # Within the grace period (24 h by default) it may belong to a transaction in flight: kept.
    kept = _clean_orphans(host_settings, s3, bucket)
    assert "2 fichiers examinés" in kept and "0 orphelin (0 octet) supprimés" in kept
    assert await _present(host_settings) == {_digest(pdf), orphan}

    counted = _clean_orphans(host_settings, s3, bucket, "--older-than", "0", "--dry-run")
    assert "1 orphelin (33 octets) seraient supprimés" in counted
    assert await _present(host_settings) == {_digest(pdf), orphan}

    cleaned = _clean_orphans(host_settings, s3, bucket, "--older-than", "0")
    assert "1 orphelin (33 octets) supprimés" in cleaned
    assert await _present(host_settings) == {_digest(pdf)}
    read = await supplier_api.get(f"/api/v1/invoices/{invoice_id}/file")
    assert read.status_code == 200 and read.content == pdf


async def test_writing_the_same_content_again_restarts_its_grace_period(clean_db, host_settings):
    """A deposit that reuses an old orphan's content must not lose it to a clean-up running
    between its write and its commit: the write restarts the blob's date."""
    await _a_committed_file(host_settings)
    reused = await storage.write_blob(host_settings, b"content deposited again later")
    forgotten = await storage.write_blob(host_settings, b"content nobody deposits again")
    time.sleep(2.1)  # S3 dates have a one-second resolution
    assert await storage.write_blob(host_settings, b"content deposited again later") == reused

    report = await storage.clean_orphans(host_settings, older_than=timedelta(seconds=1.5))
    assert report.orphans == 1 and forgotten not in await _present(host_settings)
    assert reused in await _present(host_settings)


async def _a_committed_file(settings) -> str:
    digest = await storage.write_blob(settings, b"a file some row names")
    await storage.file_row(digest, 21, "application/pdf")
    return digest


async def test_a_database_that_names_no_file_empties_nothing(clean_db, host_settings, s3, bucket):
    """The command pointed at a wrong (empty) database would take every file for an orphan: it refuses."""
    await storage.write_blob(host_settings, b"a file of the real database")
    done = _run_clean_orphans(host_settings, s3, bucket, "--older-than", "0")
    assert done.returncode == 1 and "ne désigne aucun fichier" in done.stderr
    assert await _present(host_settings) == {storage.sha256_of(b"a file of the real database")}


def test_a_command_line_with_a_negative_grace_period_is_refused(tmp_path):
    env = {**os.environ, "FACTEUR_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "backend.cli", "files", "clean-orphans", "--older-than", "-1"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "positif ou nul" in done.stderr
