"""/dev/mailbox: the messages written to the data folder, readable in the browser (FACTEUR_DEBUG=1 only)."""

from __future__ import annotations

import email
from email import policy

import anyio
from litestar import Request, get
from litestar.response import Template

from backend.accounts.spaces import PUBLIC_ROUTE, space
from backend.lib.web import page

MAX_SHOWN = 50


def _read_mailbox(mailbox) -> list[dict]:
    if not mailbox.exists():
        return []
    messages = []
    for path in sorted(mailbox.glob("*.eml"), reverse=True)[:MAX_SHOWN]:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        messages.append({
            "name": path.name, "to": msg["To"], "subject": msg["Subject"], "date": msg["Date"],
            "body": body.get_content() if body else "",
        })
    return messages


@get("/dev/mailbox", opt=space(PUBLIC_ROUTE), include_in_schema=False)
async def dev_mailbox(request: Request) -> Template:
    messages = await anyio.to_thread.run_sync(_read_mailbox, request.app.state.settings.mailbox_dir)
    return page(request, "dev_mailbox.html", messages=messages)
