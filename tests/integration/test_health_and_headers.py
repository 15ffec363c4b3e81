from __future__ import annotations

import piccolo_conf
from piccolo.engine.sqlite import SQLiteEngine


async def test_healthz_reports_each_dependency(client, settings):
    response = await client.get("/healthz")
    assert response.status_code == 200
    redis = "ok" if settings.redis_url else "not_configured"
    assert response.json() == {"status": "ok", "database": "ok", "redis": redis, "live_events": "ok", "files": "ok"}


async def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch, tmp_path):
    # A real engine on a file that cannot be opened (its folder does not exist).
    monkeypatch.setattr(piccolo_conf, "DB", SQLiteEngine(path=str(tmp_path / "absent" / "db.sqlite3")))
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_security_headers_on_pages_static_files_and_errors(client):
    for url in ("/login", "/static/css/app.css", "/no-such-page", "/healthz"):
        response = await client.get(url)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, url
        assert "frame-ancestors 'none'" in csp, url
        assert response.headers["x-content-type-options"] == "nosniff", url
        assert response.headers["referrer-policy"], url


async def test_pages_have_no_inline_script(client):
    html = (await client.get("/login")).text
    assert "<script>" not in html and "onclick=" not in html
    assert '<script src="/static/vendor/htmx/htmx.min.js"' in html


async def test_htmx_is_served_from_the_npm_install(client):
    response = await client.get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200
    assert "htmx" in response.text[:2000]
    sse = await client.get("/static/vendor/htmx-ext-sse/sse.js")
    assert sse.status_code == 200


async def test_unknown_page_is_a_french_404(client):
    response = await client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.text


async def test_api_clients_get_problem_json(client):
    response = await client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"


async def test_htmx_request_of_an_anonymous_user_gets_a_full_redirect(client):
    response = await client.get("/directory?q=ville", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/login?next=")
