"""The Litestar application factory: routers of every domain, templates, static files, sessions."""

from __future__ import annotations

import asyncio
import logging
import weakref

import anyio
from pathlib import Path

from litestar import Litestar, Request, get
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Response
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.template.config import TemplateConfig

from backend.lib import db
from backend.lib.blobstore import blob_store
from backend.accounts.account_controllers import router as account_router
from backend.accounts.space_controllers import router as spaces_router
from backend.accounts.space_guard import space_guard
from backend.accounts.spaces import PUBLIC_ROUTE, space
from backend.accounts.controllers import router as auth_router
from backend.accounts.twofactor_controllers import login_router as second_factor_router
from backend.accounts.twofactor_controllers import security_router
from backend.api.router import api_routers
from backend.lib.dev_mailbox import dev_mailbox
from backend.directory.controllers import router as directory_router
from backend.lib.errors import EXCEPTION_HANDLERS, ids_in_database_range
from backend.lib.formats import JINJA_FILTERS
from backend.processing import frameworks
from backend.lib.forms import FormRequest
from backend.home import router as home_router
from backend.invoices.capture_controllers import router as capture_router
from backend.invoices.controllers import router as invoices_router
from backend.invoices.documents.controllers import router as invoice_documents_router
from backend.invoices.export_controllers import router as export_router
from backend.invoices.generation import warm_up as warm_up_generation
from backend.invoices.validation import warm_up
from backend.processing import cdar
from backend.processing import worker as outbox_worker
from backend.processing.controllers import router as processing_router
from backend.messages.controllers import router as messages_router
from backend.tickets.controllers import router as tickets_router
from backend.notifications.controllers import router as push_router
from backend.pwa import router as pwa_router
from backend.webhooks.controllers import router as webhooks_router
from backend.works.controllers import router as works_router
from backend.justice.controllers import router as justice_router
from backend.lib.security import add_security_headers, redact_access_log
from backend.lib.sessions import RotatingSessionConfig
from backend.lib.stores import DatabaseStore
from backend.settings import Settings, get_settings
from backend.tracking import events as tracking_events
from backend.tracking.stream import make_channels
from backend.tracking.stream import router as tracking_router
from backend.lib.throttle import FailureCounter, Limit

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "frontend" / "templates"
STATIC = ROOT / "frontend" / "static"
NODE_MODULES = ROOT / "frontend" / "node_modules"

log = logging.getLogger(__name__)


@get("/healthz", opt=space(PUBLIC_ROUTE), exclude_from_csrf=True, skip_session=True, include_in_schema=False)
async def healthz(request: Request) -> Response:
    """Each dependency's state. 503 only without the database (nothing works then); without
    Redis pages and the API work and live updates pause, without the file store lists and
    status changes work but deposits and downloads answer 503: "degraded", still 200, so
    that a load balancer keeps sending people to this host (the others fare no better)."""
    settings = request.app.state.settings
    database_ok = await db.ping()
    redis = "not_configured" if not settings.redis_url else ("ok" if await _redis_answers(settings.redis_url) else "unreachable")
    files = "ok" if await blob_store(settings).ping() else "unreachable"
    status = "unavailable" if not database_ok else ("degraded" if "unreachable" in (redis, files) else "ok")
    return Response(
        {"status": status, "database": "ok" if database_ok else "unreachable", "redis": redis,
         "live_events": "paused" if redis == "unreachable" else "ok", "files": files},
        status_code=503 if not database_ok else 200,
    )


# One client (and its small pool) per URL and event loop: a process serves from one loop; an
# app rebuilt on another loop (tests) must not reuse connections bound to the first.
_health_redis: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _redis_answers(url: str, timeout: float = 2.0) -> bool:
    """PING on a client kept for the process: a load balancer polling every second must not
    open and close a connection each time. A pooled connection that died with a Redis
    restart is retried once on a fresh one, so a healthy Redis is never reported down."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    clients = _health_redis.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, max_connections=2,
            retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError, RedisTimeoutError])
    try:
        return bool(await client.ping())
    except Exception:  # any failure means "unreachable" for the health check
        return False


def _stores(settings: Settings) -> dict[str, Store]:
    # In the database, not in Redis: pages and the API keep working while Redis is down
    # (only live events pause), and every process and host shares them.
    root = DatabaseStore("facteur")
    return {"sessions": root.with_namespace("sessions"), "throttle": root.with_namespace("throttle")}


def _template_engine(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters.update(JINJA_FILTERS, framework_label=frameworks.label)
    engine.engine.globals["static_version"] = _static_version()


def _static_version() -> str:
    """Changes when a static file changes, so browsers fetch the new one (cache-busting)."""
    newest = max((p.stat().st_mtime_ns for p in STATIC.rglob("*") if p.is_file()), default=0)
    return format(newest, "x")[-8:]


def _vendor_routers() -> list:
    """htmx and its SSE extension, served straight from the npm install (no copy, no CDN)."""
    return [
        create_static_files_router(path="/static/vendor/htmx", directories=[NODE_MODULES / "htmx.org" / "dist"], name="vendor-htmx", include_in_schema=False),
        create_static_files_router(path="/static/vendor/htmx-ext-sse", directories=[NODE_MODULES / "htmx-ext-sse" / "dist"], name="vendor-sse", include_in_schema=False),
        # IndexedDB key-value store of the offline capture (page and service worker).
        create_static_files_router(path="/static/vendor/idb-keyval", directories=[NODE_MODULES / "idb-keyval" / "dist"], name="vendor-idb-keyval", include_in_schema=False),
    ]


_warmed_up = False


def _warm_up_once() -> None:
    """Compile the XSD and schematron stylesheets and load the PDF renderer before the first
    deposit or capture needs them: once per process (a process that starts several apps, as
    the tests do, pays for it once)."""
    global _warmed_up
    if _warmed_up:
        return
    warm_up()
    warm_up_generation()
    cdar.warm_up()  # the CDAR XSD and BR-FR-CDV schematron
    _warmed_up = True


def create_app(settings: Settings | None = None, *, connection_pool: bool = True) -> Litestar:
    """The application; tests pass connection_pool=False because their client runs in another event loop."""
    settings = settings or get_settings()
    redact_access_log()
    stores = _stores(settings)
    channels = make_channels(settings)  # live events (/events); Redis when several processes

    async def on_startup(app: Litestar) -> None:
        tracking_events.attach(channels, tracking_events.channel_namespace(settings))
        if connection_pool:
            await db.start_pool()
        if settings.outbox_worker:
            app.state.outbox_task = outbox_worker.start()
        await anyio.to_thread.run_sync(_warm_up_once)
        await anyio.to_thread.run_sync(blob_store, settings)  # the S3 client loads its models once

    async def on_shutdown(app: Litestar) -> None:
        tracking_events.detach(channels)
        await outbox_worker.stop(app.state.get("outbox_task"))
        if connection_pool:
            await db.close_pool()

    app = Litestar(
        route_handlers=[
            healthz,
            auth_router,
            second_factor_router,
            account_router,
            spaces_router,
            security_router,
            home_router,
            directory_router,
            invoices_router,
            invoice_documents_router,
            export_router,
            capture_router,
            processing_router,
            *api_routers(),
            webhooks_router,
            tracking_router,
            messages_router,
            tickets_router,
            works_router,
            justice_router,
            push_router,
            pwa_router,
            create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False),
            *_vendor_routers(),
            *([dev_mailbox] if settings.debug else []),
        ],
        stores=stores,
        middleware=[
            RotatingSessionConfig(
                store="sessions",
                secure=settings.secure_cookies,
                samesite="lax",
                httponly=True,
                key="facteur_session",
                max_age=14 * 24 * 3600,
                exclude=["/static", "/healthz", "/api/"],  # the API never uses cookies
            ).middleware,
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="facteur_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_samesite="lax",
            header_name="x-csrftoken",
            exclude=["/api/", "/healthz"],
        ),
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_template_engine),
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=FormRequest,  # an unreadable form field is a French 400, never a 500
        # /invoices/99999999999999999999 is a 404, never a 500; every route checks the right of its space.
        guards=[ids_in_database_range, space_guard],
        before_send=[add_security_headers],
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        plugins=[channels],
        # The API's own OpenAPI document is at /api/v1/openapi.json; no site-wide /schema.
        openapi_config=None,
        debug=False,
        request_max_body_size=settings.max_flux_size,
    )
    app.state.settings = settings
    app.state.login_by_account = FailureCounter(stores["throttle"], Limit(attempts=5, window_seconds=900))
    app.state.login_by_address = FailureCounter(stores["throttle"], Limit(attempts=30, window_seconds=900))
    # Second step of the login: a 6-digit code must not be guessable in the five minutes it is open.
    app.state.second_factor_by_user = FailureCounter(stores["throttle"], Limit(attempts=5, window_seconds=900))
    app.state.second_factor_by_address = FailureCounter(stores["throttle"], Limit(attempts=30, window_seconds=900))
    return app
