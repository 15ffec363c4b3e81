import os

from piccolo.conf.apps import AppConfig

from backend.messages.tables import Message, MessageAttachment, MessageRead, MessageThread

APP_CONFIG = AppConfig(
    app_name="messages",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[MessageThread, Message, MessageAttachment, MessageRead],
    migration_dependencies=["backend.invoices.piccolo_app"],
)
