import os

from piccolo.conf.apps import AppConfig

from backend.tracking.tables import Event, EventAudience

APP_CONFIG = AppConfig(
    app_name="tracking",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Event, EventAudience],
    migration_dependencies=["backend.invoices.piccolo_app"],
)
