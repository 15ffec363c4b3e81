import os

from piccolo.conf.apps import AppConfig

from backend.accounts.tables import (
    AccountToken, Membership, Passkey, RecoveryCode, RememberedDevice, SecurityEvent, SignupRequest, SpaceRequest, StructureSpaces, TotpSecret,
    User,
)

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[User, AccountToken, Membership, SignupRequest, TotpSecret, RecoveryCode, Passkey, RememberedDevice, SecurityEvent,
                   StructureSpaces, SpaceRequest],
    migration_dependencies=["backend.directory.piccolo_app"],
)
