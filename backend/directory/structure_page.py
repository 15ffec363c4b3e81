"""What a public structure's directory page shows; the messages domain renders it again when a
question is refused."""

from __future__ import annotations

from backend.directory import search
from backend.lib.web import CurrentUser


async def structure_context(current: CurrentUser, structure) -> dict:
    """The structure page: its requirements and services, and asking it a question (messages domain)."""
    from backend.messages.questions import directory_panel

    return {"structure": structure, "services": await search.active_services(structure.id),
            "question": await directory_panel(current, structure)}
