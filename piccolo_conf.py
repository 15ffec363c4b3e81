"""Piccolo configuration: the engine comes from FACTEUR_DATABASE_URL (SQLite by default)."""

from piccolo.conf.apps import AppRegistry

from backend.lib.db import make_engine
from backend.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(
    apps=[
        "backend.lib.piccolo_app",
        "backend.directory.piccolo_app",
        "backend.accounts.piccolo_app",
        "backend.invoices.piccolo_app",
        "backend.processing.piccolo_app",
        "backend.tracking.piccolo_app",
        "backend.api.piccolo_app",
        "backend.messages.piccolo_app",
        "backend.tickets.piccolo_app",
        "backend.webhooks.piccolo_app",
        "backend.notifications.piccolo_app",
        "backend.works.piccolo_app",
        "backend.justice.piccolo_app",
    ]
)
