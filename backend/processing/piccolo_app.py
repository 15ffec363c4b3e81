import os

from piccolo.conf.apps import AppConfig

from backend.processing.tables import Deadline, EcbRate, Outbox

APP_CONFIG = AppConfig(
    app_name="processing",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Outbox, Deadline, EcbRate],
    migration_dependencies=["backend.invoices.piccolo_app"],
)
