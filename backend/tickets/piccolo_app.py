import os

from piccolo.conf.apps import AppConfig

from backend.tickets.tables import SupportOperator, Ticket, TicketAttachment, TicketEntry

APP_CONFIG = AppConfig(
    app_name="tickets",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[SupportOperator, Ticket, TicketEntry, TicketAttachment],
    migration_dependencies=["backend.invoices.piccolo_app"],
)
