"""A small form-driving client for integration tests: CSRF tokens, mailbox links, login."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

from litestar.testing import AsyncTestClient

_CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def post_form(client: AsyncTestClient, page_url: str, action: str, data: dict[str, str], **kwargs):
    """GET the page (as a browser would), then post its form with the page's CSRF token."""
    page = await client.get(page_url)
    return await client.post(action, data={**data, "_csrf_token": csrf_from(page.text)}, **kwargs)


def mailbox_messages(mailbox: Path) -> list[email.message.EmailMessage]:
    if not mailbox.exists():
        return []
    paths = sorted(p for p in mailbox.glob("*.eml"))
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


def last_mail_to(mailbox: Path, address: str) -> email.message.EmailMessage:
    found = [m for m in mailbox_messages(mailbox) if m["To"] == address]
    assert found, f"no mail to {address}"
    return found[-1]


def link_in(message: email.message.EmailMessage, path_prefix: str) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s]+)", body)
    assert match, f"no {path_prefix} link in the mail"
    return match.group(1)
