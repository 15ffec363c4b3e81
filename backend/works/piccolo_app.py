import os

from piccolo.conf.apps import AppConfig

from backend.works.tables import BillingFile, Market, MarketActor

APP_CONFIG = AppConfig(
    app_name="works",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Market, MarketActor, BillingFile],
    # invoices: works_invoice_links adds the market and dossier columns to `invoice`.
    migration_dependencies=["backend.accounts.piccolo_app", "backend.invoices.piccolo_app"],
)
