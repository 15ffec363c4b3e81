import os

from piccolo.conf.apps import AppConfig

from backend.directory.tables import Juridiction, Service, Structure

APP_CONFIG = AppConfig(
    app_name="directory",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Structure, Service, Juridiction],
)
