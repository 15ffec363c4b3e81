import os

from piccolo.conf.apps import AppConfig

from backend.api.tables import ApiKey, ApiUpload, IdempotencyRecord

APP_CONFIG = AppConfig(
    app_name="api",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[ApiKey, IdempotencyRecord, ApiUpload],
    migration_dependencies=["backend.directory.piccolo_app"],
)
