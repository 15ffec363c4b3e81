import os

from piccolo.conf.apps import AppConfig

from backend.invoices.tables import (
    Attachment,
    Deposit,
    DepositItem,
    DraftAttachment,
    Invoice,
    InvoiceCount,
    InvoiceDraft,
    InvoiceHistory,
    InvoicePayment,
    StoredFile,
)

APP_CONFIG = AppConfig(
    app_name="invoices",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[StoredFile, Deposit, Invoice, InvoiceHistory, Attachment, DepositItem, InvoiceDraft, DraftAttachment, InvoiceCount,
                   InvoicePayment],
    migration_dependencies=["backend.accounts.piccolo_app"],
)
