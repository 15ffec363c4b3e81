"""The capture form marks its required fields, the due date among them, and the phone checks
them before sending, also offline (frontend/static/js/capture-check.js, kept by the worker)."""

from __future__ import annotations

import html
import re

from tests.integration.invoices.test_capture import _new_draft


def _labels(page: str) -> list[str]:
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", label)).split()) for label in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)]


async def test_required_fields_are_marked_the_due_date_among_them(client, supplier, recipient):
    draft_id, _ = await _new_draft(client)
    page = (await client.get(f"/capture/{draft_id}")).text
    labels = _labels(page)
    for marked in ("Numéro de facture (obligatoire)", "Date d'émission (obligatoire)", "Échéance (obligatoire pour une facture)",
                   "Désignation (obligatoire)", "Quantité (obligatoire)", "N° de la facture d'origine (obligatoire pour un avoir)"):
        assert marked in labels, labels
    assert "1. Destinataire (obligatoire)" in " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    # The phone's checks say it in French (the browser's own bubbles would not, nor per rule).
    assert re.search(r'<form id="capture-form"[^>]* novalidate', page)
    assert re.search(r'<script src="/static/js/capture-check\.js\?v=[^"]+" defer></script>', page)


async def test_the_checks_are_kept_on_the_phone_for_offline_use(client, supplier, recipient):
    worker = (await client.get("/sw.js")).text
    assert 'versioned("/static/js/capture-check.js")' in worker  # in the shell the worker stores at install
    script = await client.get("/static/js/capture-check.js")
    assert script.status_code == 200 and "La date d'échéance est obligatoire." in script.text
