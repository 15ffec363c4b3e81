"""The installable app: web app manifest, service worker at the root, offline page.

The service worker must be served from `/sw.js` (not /static/) so that its scope is the
whole site without a Service-Worker-Allowed header. Its source lives in
frontend/static/sw.js; the version of the static files is written into it when served, so
a new deployment changes the worker's bytes, which makes browsers install the new worker
and drop the old caches.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from litestar import Request, Router, get
from litestar.response import Response, Template

from backend.accounts.spaces import PUBLIC_ROUTE, space
from backend.lib.web import page

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "frontend" / "static"
PACKAGE_LOCK = ROOT / "frontend" / "package-lock.json"

THEME_COLOR = "#1d3f8f"
BACKGROUND_COLOR = "#f4f6fb"
ICON_SIZES = (192, 512)
NO_CACHE = {"Cache-Control": "no-cache"}


def static_version(request: Request) -> str:
    """The version the templates put in ?v= (computed once by the app factory)."""
    return request.app.template_engine.engine.globals["static_version"]


@lru_cache(maxsize=8)
def worker_version(static: str) -> str:
    """Static files and pinned npm packages (htmx…) together: either one changing renews the caches."""
    lock = hashlib.sha256(PACKAGE_LOCK.read_bytes()).hexdigest()[:8] if PACKAGE_LOCK.exists() else "none"
    return f"{static}-{lock}"


def manifest(version: str) -> dict:
    icons = [{"src": f"/static/icons/icon-{size}.png?v={version}", "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"}
             for size in ICON_SIZES]
    icons.append({"src": f"/static/icons/icon-maskable-512.png?v={version}", "sizes": "512x512", "type": "image/png", "purpose": "maskable"})
    return {
        "id": "/",
        "name": "Facteur — factures aux entités publiques",
        "short_name": "Facteur",
        "description": "Déposez vos factures électroniques aux entités publiques et suivez-les jusqu'au paiement.",
        "lang": "fr",
        "dir": "ltr",
        "start_url": "/",  # the same address as the tab: its page kept for offline use serves both
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "categories": ["business", "finance", "productivity"],
        "icons": icons,
    }


@get("/manifest.webmanifest", skip_session=True, include_in_schema=False)
async def web_manifest(request: Request) -> Response:
    return Response(manifest(static_version(request)), media_type="application/manifest+json", headers=NO_CACHE)


@lru_cache(maxsize=8)
def _worker_source(static: str) -> str:
    source = (STATIC / "sw.js").read_text(encoding="utf-8")
    return source.replace("__STATIC_VERSION__", static).replace("__CACHE_VERSION__", worker_version(static))


@get("/sw.js", skip_session=True, include_in_schema=False)
async def service_worker(request: Request) -> Response:
    # no-cache: the browser checks for a new worker on every navigation (it also caps at 24 h).
    return Response(_worker_source(static_version(request)), media_type="text/javascript; charset=utf-8", headers=NO_CACHE)


@get("/offline", include_in_schema=False)
async def offline_page(request: Request) -> Template:
    """Precached by the worker and shown for a page it cannot reach nor find in its cache.

    Rendered without the user (current=None): it is cached once for everyone on the device.
    """
    return page(request, "offline.html", current=None)


router = Router(opt=space(PUBLIC_ROUTE), path="/", route_handlers=[web_manifest, service_worker, offline_page])
