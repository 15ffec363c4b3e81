"""Outgoing e-mail: SMTP when FACTEUR_SMTP_HOST is set, otherwise .eml files in the mailbox folder."""

from __future__ import annotations

import logging
import os
import secrets
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib
import anyio

from backend.lib.common import utcnow
from backend.settings import Settings

log = logging.getLogger(__name__)


def build_message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="facteur.localhost")
    msg.set_content(body)
    return msg


async def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    msg = build_message(settings, to, subject, body)
    if settings.smtp_host:
        await aiosmtplib.send(
            msg,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password,
            start_tls=None,  # STARTTLS when the server offers it
            timeout=20,
        )
        return
    await anyio.to_thread.run_sync(_write_eml, settings, msg)


def _write_eml(settings: Settings, msg: EmailMessage) -> None:
    """Write atomically so a reader of the mailbox never sees half a message."""
    settings.mailbox_dir.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
    tmp = settings.mailbox_dir / f".{name}.tmp"
    tmp.write_bytes(bytes(msg))
    os.replace(tmp, settings.mailbox_dir / name)
    log.info("mail written to %s", name)
