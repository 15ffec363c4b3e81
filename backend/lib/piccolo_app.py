import os

from piccolo.conf.apps import AppConfig

from backend.lib.tables import StoreEntry

APP_CONFIG = AppConfig(
    app_name="lib",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[StoreEntry],
    migration_dependencies=[],
)
