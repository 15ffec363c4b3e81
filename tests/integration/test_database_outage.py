"""PostgreSQL goes away under a running `facteur serve`: pages and the API answer 503 with a
French message and Retry-After (never 500 "erreur inattendue"), and the server recovers by
itself when the database is back."""

from __future__ import annotations

import time

import httpx
import msgspec

from tests.conftest import require_component
from tests.integration.tracking.servers import start_server, stop
from tests.support.pg_server import PostgresServer, postgres_bin_dir

# Both read the database: the reset link looks its token up, the API looks the key up.
PAGE = "/password/reset/jeton-inconnu"
API = "/api/v1/invoices"
BEARER = {"Authorization": "Bearer fct_cle-inconnue"}


def _get(http: httpx.Client, path: str, **kwargs) -> httpx.Response:
    return http.get(path, **kwargs)


def test_a_database_outage_answers_503_and_recovers(settings, tmp_path):
    require_component(postgres_bin_dir() is not None, "Les binaires PostgreSQL (initdb, postgres)")
    database = PostgresServer()
    database.init()
    database.start()
    server = start_server(msgspec.structs.replace(settings, database_url=database.url), tmp_path / "app")
    try:
        with httpx.Client(base_url=server.base_url, timeout=15) as http:
            assert _get(http, PAGE).status_code == 404  # unknown link: the database answered
            assert _get(http, API, headers=BEARER).status_code == 401

            database.kill()
            for _ in range(2):  # the pool's dead connections, then refused new ones
                page = _get(http, PAGE)
                assert page.status_code == 503, server.log_tail()
                assert "momentanément indisponible" in page.text
                assert page.headers["retry-after"].isdigit()
            api = _get(http, API, headers=BEARER)
            assert api.status_code == 503 and api.headers["content-type"].startswith("application/problem+json")
            assert api.json()["code"] == "service_unavailable" and api.headers["retry-after"].isdigit()
            assert _get(http, "/healthz").status_code == 503

            database.start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and _get(http, PAGE).status_code != 404:
                time.sleep(0.2)
            assert _get(http, PAGE).status_code == 404, "the server did not recover by itself"
            assert _get(http, API, headers=BEARER).status_code == 401
        assert "erreur inattendue" not in server.log_tail().lower()
    finally:
        stop(server)
        database.stop()
