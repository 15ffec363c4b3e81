import os

from piccolo.conf.apps import AppConfig

from backend.justice.tables import JusticeSetting, Memoire, MemoireDraft, MemoireDraftAttachment

APP_CONFIG = AppConfig(
    app_name="justice",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Memoire, MemoireDraft, JusticeSetting, MemoireDraftAttachment],
    migration_dependencies=["backend.accounts.piccolo_app", "backend.invoices.piccolo_app", "backend.directory.piccolo_app"],
)
