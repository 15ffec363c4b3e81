import os

from piccolo.conf.apps import AppConfig

from backend.api.tables import ApiKey, IdempotencyRecord

APP_CONFIG = AppConfig(
    app_name="api",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[ApiKey, IdempotencyRecord],
    migration_dependencies=["backend.directory.piccolo_app"],
)
